using System.Net;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.IntegrationTests.Web;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 16, the dead peer, on both WebSocket transports: a client that stops reading
/// never answers the server's pings (a .NET <c>ClientWebSocket</c> answers them only inside a
/// receive), so to the server it is dead and is aborted at the keep-alive timeout, recorded as such.
/// </summary>
public sealed class Row16DeadPeerMatrixTests
{
    [Theory]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Row16_a_peer_that_stops_answering_pings_is_aborted_at_the_keepalive_timeout(string name)
    {
        var transport = MatrixTransport.Named(name);
        var logs = new LogCapture();
        await using var server = await transport.StartAsync(o =>
        {
            o.Web.KeepAliveInterval = TimeSpan.FromMilliseconds(200);
            o.Web.KeepAliveTimeout = TimeSpan.FromMilliseconds(300);
        }, logs);

        // Alive first: one message answered, so the upgrade (and on wss the TLS) is known to be through.
        await using var dead = await Probe.ServedAsync(transport, server, IPAddress.Loopback, "still alive");
        await server.WaitForNoConnectionsAsync(TimeSpan.FromSeconds(30));
        var closed = Assert.Single(server.Server.Services.GetEvents(), e => e.Kind == ConnectionEventKind.Closed);
        Assert.True(closed.Reason == CloseReason.KeepAliveTimeout, $"{transport}: closed {closed}; log:\n{string.Join('\n', logs.Entries.Select(e => e.Message))}");
        Assert.Contains(closed.Transport, transport.EventNames);

        // The server goes on: a live client is served after the dead one is gone.
        await using var alive = await Probe.ServedAsync(transport, server, IPAddress.Loopback, "after the dead peer");
    }
}
