using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 15, the silent client, on both TLS transports: a client that connects to the TLS
/// port and never starts its handshake is closed at the handshake timeout (not before), quietly, and
/// the server goes on serving. On wss the port is the web endpoint's, whose HTTPS takes the same
/// <c>--tls-handshake-timeout</c> as a <c>tls://</c> listener.
/// </summary>
public sealed class Row15SilentTlsMatrixTests
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData("tls")]
    [InlineData("wss")]
    public async Task Row15_a_silent_client_is_closed_at_the_handshake_timeout_with_a_Debug_log_and_the_server_stays_up(string name)
    {
        var transport = MatrixTransport.Named(name);
        var logs = new LogCapture();
        await using var server = await transport.StartAsync(o => o.Tls.HandshakeTimeout = HandshakeTimeout, logs);
        var port = transport.IsWebSocket
            ? (server.Server.WebAddress ?? throw new Xunit.Sdk.XunitException("no web endpoint")).Port
            : server.EndpointOf(ShoutTransport.Tls).Port;

        var clock = Stopwatch.StartNew();
        TimeSpan closedAfter;
        using (var socket = await RawClient.ConnectAsync(ShoutEndpoint.ForTcp("127.0.0.1", port)))
        {
            byte[] reply;
            try
            {
                // Bounded well past the timeout: a server without one leaves this read hanging and the test fails.
                reply = await RawClient.ReadToEndAsync(socket, TimeSpan.FromSeconds(20));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                reply = [];
            }

            closedAfter = clock.Elapsed;
            Assert.True(reply.Length < 64, $"{reply.Length} bytes came back to a client that sent nothing");
        }

        // Closed by the handshake timeout, not at once (the socket's own clock, with room for a late timer).
        Assert.True(closedAfter >= HandshakeTimeout - TimeSpan.FromMilliseconds(100), $"closed after {closedAfter.TotalMilliseconds:F0} ms, before the {HandshakeTimeout.TotalSeconds} s timeout");

        await using var client = await Probe.ServedAsync(transport, server, IPAddress.Loopback, "after the silence");
        Assert.Empty(logs.AtLeast(LogLevel.Warning));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Debug && e.Category.Contains("Https", StringComparison.Ordinal));
    }
}
