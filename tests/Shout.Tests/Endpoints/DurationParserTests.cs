using Shout.Configuration;

namespace Shout.Tests.Endpoints;

public sealed class DurationParserTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("2", 2_000)]
    [InlineData("1.5s", 1_500)]
    public void Parses_durations(string text, double milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("-1s")]
    [InlineData("5 parsecs")]
    // What double.TryParse takes whatever the NumberStyles, and TimeSpan throws on (row 31).
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("NaNs")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("\u221E")]
    [InlineData("-0")]
    [InlineData("+5")]
    [InlineData("1e400")]
    [InlineData("1e3ms")]
    [InlineData("1.2.3s")]
    [InlineData(".")]
    [InlineData("0x10")]
    [InlineData("\u0665s")]
    public void Rejects_what_is_not_a_duration(string text)
    {
        Assert.False(DurationParser.TryParse(text, out _, out var error));
        Assert.Contains("is not a duration", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("50d")]
    [InlineData("4294967295ms")]
    [InlineData("99999999999999999999999999999999999999999999999999")]
    public void Refuses_what_a_timer_cannot_hold(string text)
    {
        Assert.False(DurationParser.TryParse(text, out _, out var error));
        Assert.Contains("is too long", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Takes_the_longest_a_timer_holds_and_no_more()
    {
        Assert.True(DurationParser.TryParse("4294967294ms", out var max));
        Assert.Equal(DurationParser.Max, max);
        using var timer = new CancellationTokenSource();
        timer.CancelAfter(max);
    }
}
