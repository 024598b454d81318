using Shout.Configuration;

namespace Shout.Tests.Configuration;

/// <summary>Sums of in-range timeouts never reach a timer as a value it throws on (row 31).</summary>
public sealed class TimerSpanTests
{
    [Fact]
    public void A_sum_past_the_timer_limit_saturates()
    {
        var sum = TimerSpan.Sum(DurationParser.Max, DurationParser.Max, TimeSpan.FromSeconds(10));
        Assert.Equal(DurationParser.Max, sum);
        using var timer = new CancellationTokenSource();
        timer.CancelAfter(sum);
    }

    [Fact]
    public void A_product_past_the_timer_limit_saturates()
    {
        Assert.Equal(DurationParser.Max, TimerSpan.Times(TimeSpan.FromMilliseconds(4294967294), 3));
        Assert.Equal(DurationParser.Max, TimerSpan.Times(TimeSpan.FromDays(1), int.MaxValue));
        Assert.Equal(TimeSpan.FromSeconds(15), TimerSpan.Times(TimeSpan.FromSeconds(5), 3));
        Assert.Equal(TimeSpan.Zero, TimerSpan.Times(TimeSpan.FromSeconds(5), 0));
    }

    [Fact]
    public void Sums_within_the_limit_are_exact()
    {
        Assert.Equal(TimeSpan.FromSeconds(15), TimerSpan.Sum(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.Zero, TimerSpan.Sum());
    }
}
