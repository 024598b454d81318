using Microsoft.Extensions.Time.Testing;
using Shout.Server.Epoll;

namespace Shout.Tests.Server;

/// <summary>Row 20 on the epoll transport: a crowd that left is collected once; steady churn and a slow decline are not.</summary>
public sealed class EpollBurstWatchTests
{
    private const long ReadSize = 64 * 1024;

    [Fact]
    public void A_crowd_of_128_read_buffers_that_left_is_collected_once_the_second_after()
    {
        var clock = new FakeTimeProvider();
        long open = 300;
        using var watch = new EpollBurstWatch(() => open, ReadSize, clock);
        clock.Advance(TimeSpan.FromSeconds(1));
        open = 0;
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, watch.Collections);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, watch.Collections);

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, watch.Collections);
    }

    [Fact]
    public void Fewer_than_a_burst_or_a_decline_slower_than_a_period_asks_for_nothing()
    {
        var clock = new FakeTimeProvider();
        long open = 127;
        using var watch = new EpollBurstWatch(() => open, ReadSize, clock);
        clock.Advance(TimeSpan.FromSeconds(1));
        open = 0;
        clock.Advance(TimeSpan.FromSeconds(5));

        // 400 connections leaving 20 a second: at most 100 in any period.
        open = 400;
        clock.Advance(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 20; i++)
        {
            open -= 20;
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, watch.Collections);
    }
}
