using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 5: a client trickles one byte per interval and never sends a newline (line mode).
/// Each byte keeps the idle timeout away, so only the line-completion timeout can end it.
/// </summary>
public sealed class Row05LineTimeoutTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Line = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public async Task Row05_trickled_line_is_closed_at_the_line_timeout_counted_from_its_first_byte()
    {
        var clock = new WatchedClock();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Line;
            o.IdleTimeout = Idle;
            o.LineTimeout = Line;
        }, clock: clock);
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        socket.NoDelay = true;
        // The session reads the clock as it opens: only once it is counted does a read of the clock mean a byte was handled.
        await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 1, TimeSpan.FromSeconds(15), () => "the server did not open the session");

        // A line finished one tick before its timeout is answered: a byte every 5 s, six bytes, then the newline.
        foreach (var b in "abcdef"u8.ToArray())
        {
            await SendAsync(clock, socket, b);
            clock.Advance(b == (byte)'f' ? Step - Tick : Step);
        }

        Assert.Equal(0, server.Metrics.TimeoutsExpired);
        await SendAsync(clock, socket, (byte)'\n');
        Assert.Equal("ABCDEF\n", Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(socket, 7)));

        // The next line is trickled forever: the idle timeout never fires, the line timeout does, 30 s after its first byte.
        for (var elapsed = TimeSpan.Zero; elapsed < Line; elapsed += Step)
        {
            // Timers of a fake clock fire inside Advance: none has fired before the line's 30 s are up.
            Assert.Equal(0, server.Metrics.TimeoutsExpired);
            await SendAsync(clock, socket, (byte)'z');
            clock.Advance(Step);
        }

        Assert.Equal("ERR line timeout\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.LineTimeout));
        Assert.Equal(0, server.Metrics.ClosedFor(CloseReason.IdleTimeout));
    }

    private static async Task SendAsync(WatchedClock clock, System.Net.Sockets.Socket socket, byte b)
    {
        var before = clock.Reads;
        await socket.SendAsync(new[] { b });
        await clock.WaitForServerAsync(before);
    }
}
