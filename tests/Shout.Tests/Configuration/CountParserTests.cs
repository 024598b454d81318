using Shout.Configuration;

namespace Shout.Tests.Configuration;

public sealed class CountParserTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("2147483647", 2147483647)]
    [InlineData("+7", 7)]
    public void Parses_whole_numbers_in_range(string text, int expected)
    {
        Assert.True(CountParser.TryParse(text, 0, int.MaxValue, out var value, out _));
        Assert.Equal(expected, value);
    }

    [Theory]
    // A number past the range is too large, not "0 or more" (which it is) nor "not a number".
    [InlineData("99999999999", 0, int.MaxValue, "'99999999999' is too large; at most 2147483647")]
    [InlineData("99999999999999999999999999", 0, int.MaxValue, "is too large; at most 2147483647")]
    [InlineData("2147483648", 1, int.MaxValue, "is too large; at most 2147483647")]
    [InlineData("-1", 0, int.MaxValue, "'-1' is not a whole number, 0 (no limit) or more")]
    [InlineData("abc", 0, int.MaxValue, "'abc' is not a whole number, 0 (no limit) or more")]
    [InlineData("NaN", 0, int.MaxValue, "'NaN' is not a whole number")]
    [InlineData("1e3", 0, int.MaxValue, "'1e3' is not a whole number")]
    [InlineData("2147483647", 0, 1048576, "'2147483647' is not a whole number from 0 (no limit) to 1048576")]
    [InlineData("0", 1, 65535, "'0' is not a whole number from 1 to 65535")]
    public void Says_why_a_number_is_refused(string text, int min, int max, string expected)
    {
        Assert.False(CountParser.TryParse(text, min, max, out _, out var error, zeroMeans: "no limit"));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
