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

    /// <summary>
    /// <c>serve --ws-ping</c> sets both the ping interval and how late the pong may be: a client that
    /// answered once and then reads nothing (so answers no ping) is recorded as <c>keepalive_timeout</c>,
    /// well before the idle timeout. 2 s, not less: until the client's first receive is pending it
    /// answers no ping either, and on a loaded machine a wss handshake and the first exchange took
    /// longer than a 300 ms window (the server then took the client for dead before it could answer).
    /// </summary>
    [Theory]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Row16_ws_ping_sets_how_soon_a_peer_that_answers_no_ping_is_taken_for_dead(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await ServedProcess.StartAsync(transport, "--ws-ping", "2s", "--idle-timeout", "10m");
        await using var client = await server.OpenAsync(IPAddress.Loopback);
        await client.SendAsync("alive"u8.ToArray());
        Assert.Equal("ALIVE"u8.ToArray(), (await client.ReceiveAsync(5)).Data);

        // From here the client never receives, so the runtime never answers the server's pings.
        await server.Process.WaitForOutputAsync(_ => server.Connections().Any(c => c.Reason is not null), TimeSpan.FromSeconds(30));
        var closed = Assert.Single(server.Connections(), c => c.Reason is not null);
        Assert.Equal("keepalive_timeout", closed.Reason);
    }
}
