using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

/// <summary>The test's Prometheus parser must itself reject what Prometheus rejects, or its passes mean nothing.</summary>
public sealed class PrometheusTextTests
{
    private const string Valid = """
        # HELP requests Requests served.
        # TYPE requests counter
        requests{code="200",path="/a \"q\" \\ \n"} 3
        requests{code="500",path="/"} 1e3 1700000000000
        # TYPE lifetime histogram
        lifetime_bucket{le="0.1"} 1
        lifetime_bucket{le="+Inf"} 2
        lifetime_sum 0.5
        lifetime_count 2

        """;

    [Fact]
    public void Parses_families_labels_escapes_and_histograms()
    {
        var families = PrometheusText.Parse(Valid.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal("Requests served.", families["requests"].Help);
        Assert.Equal("/a \"q\" \\ \n", families["requests"].Samples[0].Labels["path"]);
        Assert.Equal(1000, families["requests"].Samples[1].Value);
        Assert.Equal(4, families["lifetime"].Samples.Count);
    }

    [Theory]
    [InlineData("# TYPE a counter\na 1")]                                       // no final newline
    [InlineData("a 1\n")]                                                       // sample before TYPE
    [InlineData("# TYPE a counter\n# TYPE a counter\na 1\n")]                   // TYPE twice
    [InlineData("# TYPE a counter\na{x=\"1\"} 1\na{x=\"1\"} 2\n")]              // duplicate series
    [InlineData("# TYPE 1a counter\n1a 1\n")]                                   // bad metric name
    [InlineData("# TYPE a counter\na{x=\"\\q\"} 1\n")]                          // bad escape
    [InlineData("# TYPE a counter\na{x=1} 1\n")]                                // unquoted label value
    [InlineData("# TYPE a counter\na one\n")]                                   // not a number
    [InlineData("# TYPE a counterish\na 1\n")]                                  // unknown type
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")] // not cumulative
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")]                          // no +Inf bucket
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n")]                       // +Inf != count
    public void Rejects_what_the_format_forbids(string text) =>
        Assert.Throws<FormatException>(() => PrometheusText.Parse(text));
}
