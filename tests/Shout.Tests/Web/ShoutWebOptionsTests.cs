using Shout.Web;

namespace Shout.Tests.Web;

public sealed class ShoutWebOptionsTests
{
    [Theory]
    [InlineData("http://0.0.0.0:8081", "0.0.0.0", 8081)]
    [InlineData("http://[::]:8081/", "[::]", 8081)]
    [InlineData("http://localhost:0", "localhost", 0)]
    [InlineData("https://127.0.0.1:8443", "127.0.0.1", 8443)]
    public void Parses_http_addresses(string text, string host, int port)
    {
        var uri = ShoutWebOptions.ParseAddress(text)!;
        Assert.Equal((host, port), (uri.Host, uri.Port));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("NONE")]
    [InlineData("off")]
    public void None_turns_the_web_endpoint_off(string text) => Assert.Null(ShoutWebOptions.ParseAddress(text));

    [Theory]
    [InlineData("ftp://0.0.0.0:8081")]
    [InlineData("0.0.0.0:8081")]
    [InlineData("http://0.0.0.0:8081/page")]
    [InlineData("ws://0.0.0.0:8081")]
    public void Refuses_anything_else_with_a_hint(string text)
    {
        var error = Assert.Throws<FormatException>(() => ShoutWebOptions.ParseAddress(text));
        Assert.Contains("http://", error.Message, StringComparison.Ordinal);
    }
}
