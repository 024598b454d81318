using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Shout.Client;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

/// <summary>RELIABILITY row 15: garbage, plaintext and silence on the TLS port are closed quietly.</summary>
public sealed class TlsGarbageTests
{
    [Theory]
    [InlineData("ten NUL bytes", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData("plaintext", new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', (byte)'\n' })]
    [InlineData("silence until the handshake timeout", new byte[0])]
    public async Task Is_closed_with_a_Debug_log_and_the_server_stays_up(string what, byte[] bytes)
    {
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(o => o.Tls.HandshakeTimeout = TimeSpan.FromSeconds(1),
            "tls://127.0.0.1:0", logs);
        using (var socket = await RawClient.ConnectAsync(server.Endpoint))
        {
            await socket.SendAsync(bytes);

            // Whatever the server answers (a TLS alert at most), it must close: EOF or a reset.
            var received = await ReadUntilClosedAsync(socket);
            Assert.True(received.Length < 64, $"{what}: {received.Length} bytes back");
            Assert.DoesNotContain("HELLO", Encoding.Latin1.GetString(received), StringComparison.Ordinal);
        }

        await server.WaitForNoConnectionsAsync();
        await using (var client = await ShoutConnection.ConnectAsync(server.Endpoint, new ShoutClientOptions { Insecure = true }))
        {
            await client.Stream.WriteAsync("still up"u8.ToArray());
            await client.HalfCloseAsync();
            using var output = new MemoryStream();
            await client.Stream.CopyToAsync(output, new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
            Assert.Equal("STILL UP", Encoding.UTF8.GetString(output.ToArray()));
        }

        Assert.Empty(logs.AtLeast(LogLevel.Warning));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Debug && e.Category.Contains("Https", StringComparison.Ordinal));
    }

    private static async Task<byte[]> ReadUntilClosedAsync(Socket socket)
    {
        try
        {
            return await RawClient.ReadToEndAsync(socket, TimeSpan.FromSeconds(20));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return [];
        }
    }
}
