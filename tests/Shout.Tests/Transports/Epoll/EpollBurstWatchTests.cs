using Microsoft.Extensions.Time.Testing;
using Shout.Transports.Epoll;

namespace Shout.Tests.Transports.Epoll;

/// <summary>Row 20 on the epoll transport: a crowd that left is collected, however fast it came and left, and once more a period later; churn and fewer than a burst are not.</summary>
public sealed class EpollBurstWatchTests
{
    private const long ReadSize = 64 * 1024;

    [Fact]
    public void A_crowd_of_128_read_buffers_that_left_is_collected_at_the_next_tick_and_once_more_a_period_later()
    {
        var clock = new FakeTimeProvider();
        var live = new LiveConnections();
        using var watch = new EpollBurstWatch(live, ReadSize, clock);
        Open(live, 300);
        clock.Advance(TimeSpan.FromSeconds(1));
        Dispose(live, 300);
        Assert.Equal(0, watch.Collections);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, watch.Collections);

        // Once more a trim period later (arrays given back at disposal, after the first), then never.
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, watch.Collections);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, watch.Collections);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, watch.Collections);
    }

    [Fact]
    public void A_crowd_that_came_and_went_between_two_ticks_is_collected_at_the_next()
    {
        // Row 20 over Unix sockets on a quiet machine: 300 connected, stalled and were gone in under a
        // second, so every tick saw none open, and nothing was ever collected.
        var clock = new FakeTimeProvider();
        var live = new LiveConnections();
        using var watch = new EpollBurstWatch(live, ReadSize, clock);
        clock.Advance(TimeSpan.FromSeconds(1));
        Open(live, 300);
        Dispose(live, 300);
        Assert.Equal(0, watch.Collections);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, watch.Collections);
    }

    [Fact]
    public void Fewer_than_a_burst_or_churn_asks_for_nothing_and_a_slow_exit_is_collected_per_burst()
    {
        var clock = new FakeTimeProvider();
        var live = new LiveConnections();
        using var watch = new EpollBurstWatch(live, ReadSize, clock);
        Open(live, 127);
        clock.Advance(TimeSpan.FromSeconds(1));
        Dispose(live, 127);
        clock.Advance(TimeSpan.FromSeconds(5));

        // Churn: 100 come and go again and again (some within a tick), never 128 fewer than the peak.
        for (var i = 0; i < 10; i++)
        {
            Open(live, 100);
            clock.Advance(TimeSpan.FromSeconds(1));
            Dispose(live, 100);
            Open(live, 20);
            Dispose(live, 20);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, watch.Collections);

        // 400 leaving 20 a second: slow, still a crowd whose buffers are garbage; one collection per 128 gone
        // (at 260 and at 120 left; the last 120 are fewer than a burst), and the follow-up of the second.
        Open(live, 400);
        clock.Advance(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 20; i++)
        {
            Dispose(live, 20);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, watch.Collections);
    }

    [Fact]
    public void The_peak_is_the_most_open_at_once_since_the_last_look_and_never_less_than_those_open_now()
    {
        var live = new LiveConnections();
        Open(live, 5);
        Dispose(live, 3);
        Assert.Equal(2, live.Live);
        Assert.Equal(5, live.TakePeak());
        Assert.Equal(2, live.TakePeak());
        Open(live, 1);
        Dispose(live, 3);
        Assert.Equal(3, live.TakePeak());
        Assert.Equal(0, live.TakePeak());
    }

    private static void Open(LiveConnections live, int count)
    {
        for (var i = 0; i < count; i++)
        {
            live.Opened();
        }
    }

    private static void Dispose(LiveConnections live, int count)
    {
        for (var i = 0; i < count; i++)
        {
            live.Disposed();
        }
    }
}
