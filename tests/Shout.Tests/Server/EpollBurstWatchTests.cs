using Microsoft.Extensions.Time.Testing;
using Shout.Server.Epoll;

namespace Shout.Tests.Server;

/// <summary>Row 20 on the epoll transport: a crowd that left is collected, however fast it left, and once more a trim period later; churn and fewer than a burst are not.</summary>
public sealed class EpollBurstWatchTests
{
    private const long ReadSize = 64 * 1024;

    [Fact]
    public void A_crowd_of_128_read_buffers_that_left_is_collected_at_the_next_tick_and_once_more_a_period_later()
    {
        var clock = new FakeTimeProvider();
        long open = 300;
        using var watch = new EpollBurstWatch(() => open, ReadSize, clock);
        clock.Advance(TimeSpan.FromSeconds(1));
        open = 0;
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
    public void Fewer_than_a_burst_or_churn_asks_for_nothing_and_a_slow_exit_is_collected_per_burst()
    {
        var clock = new FakeTimeProvider();
        long open = 127;
        using var watch = new EpollBurstWatch(() => open, ReadSize, clock);
        clock.Advance(TimeSpan.FromSeconds(1));
        open = 0;
        clock.Advance(TimeSpan.FromSeconds(5));

        // Churn: 100 come and go again and again, never 128 fewer than the peak.
        for (var i = 0; i < 10; i++)
        {
            open = 100;
            clock.Advance(TimeSpan.FromSeconds(1));
            open = 0;
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, watch.Collections);

        // 400 leaving 20 a second: slow, still a crowd whose buffers are garbage; one collection per 128 gone
        // (at 260 and at 120 left; the last 120 are fewer than a burst), and the follow-up of the second.
        open = 400;
        clock.Advance(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 20; i++)
        {
            open -= 20;
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, watch.Collections);
    }
}
