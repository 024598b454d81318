using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 15 on both TLS transports: garbage and plaintext on the TLS port are closed quietly.</summary>
public sealed class TlsGarbageMatrixTests
{
    [Theory]
    [InlineData("tls", "ten NUL bytes", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData("tls", "plaintext", new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', (byte)'\n' })]
    [InlineData("wss", "ten NUL bytes", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData("wss", "a plaintext upgrade", new byte[] { (byte)'G', (byte)'E', (byte)'T', (byte)' ', (byte)'/', (byte)'w', (byte)'s', (byte)' ',
        (byte)'H', (byte)'T', (byte)'T', (byte)'P', (byte)'/', (byte)'1', (byte)'.', (byte)'1', (byte)'\r', (byte)'\n', (byte)'\r', (byte)'\n' })]
    public async Task Row15_garbage_on_the_TLS_port_is_closed_with_a_Debug_log_and_the_server_stays_up(string name, string what, byte[] bytes)
    {
        var transport = MatrixTransport.Named(name);
        var logs = new LogCapture();
        await using var server = await transport.StartAsync(logs: logs);
        var port = transport.IsWebSocket
            ? (server.Server.WebAddress ?? throw new Xunit.Sdk.XunitException("no web endpoint")).Port
            : server.EndpointOf(ShoutTransport.Tls).Port;
        using (var socket = await RawClient.ConnectAsync(ShoutEndpoint.ForTcp("127.0.0.1", port)))
        {
            await socket.SendAsync(bytes);
            byte[] reply;
            try
            {
                reply = await RawClient.ReadToEndAsync(socket, TimeSpan.FromSeconds(30));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                reply = [];
            }

            // Whatever the TLS layer answers (an alert at most), never an uppercased echo of the bytes.
            Assert.True(reply.Length < 64, $"{what}: {reply.Length} bytes came back");
        }

        await using var client = await Probe.ServedAsync(transport, server, IPAddress.Loopback, "after the garbage");
        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }
}
