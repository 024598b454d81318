using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 4: an idle connection (slowloris) is closed at the idle timeout, on a fake clock.</summary>
public sealed class Row04IdleTimeoutTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public async Task Row04_idle_connection_is_open_one_tick_before_the_idle_timeout_and_closed_at_it()
    {
        var clock = new WatchedClock();
        await using var server = await TestServer.StartAsync(o => o.IdleTimeout = Idle, clock: clock);
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 1, TimeSpan.FromSeconds(15), () => "not accepted");

        // Idle for the timeout less one tick: still served (and the answer is activity, restarting the clock).
        clock.Advance(Idle - Tick);
        await socket.SendAsync("still here"u8.ToArray());
        Assert.Equal("STILL HERE", Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(socket, 10)));

        // Again idle for the timeout less one tick: the deadline was moved by the data, so nothing
        // fires (a fake clock runs due timers inside Advance, so this is checked at once)…
        clock.Advance(Idle - Tick);
        Assert.Equal(0, server.Metrics.TimeoutsExpired);

        // …and one tick more closes it, gracefully (FIN, not RST), with the reason recorded.
        clock.Advance(Tick);
        Assert.Equal(1, server.Metrics.TimeoutsExpired);
        Assert.Empty(await RawClient.ReadToEndAsync(socket));

        // The server half-closed first and waits (on the fake clock) for the client's FIN: send it.
        socket.Shutdown(SocketShutdown.Send);
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.IdleTimeout));
    }

    [Fact]
    public async Task Row04_idle_timeout_zero_means_never()
    {
        var clock = new WatchedClock();
        await using var server = await TestServer.StartAsync(o => o.IdleTimeout = TimeSpan.Zero, clock: clock);
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 1, TimeSpan.FromSeconds(15), () => "not accepted");

        clock.Advance(TimeSpan.FromDays(30));
        await socket.SendAsync("a"u8.ToArray());
        Assert.Equal("A", Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(socket, 1)));
        socket.Shutdown(SocketShutdown.Send);
        Assert.Empty(await RawClient.ReadToEndAsync(socket));
    }
}
