using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

public sealed partial class ServeWebCommandTests
{
    [Fact]
    public async Task Serve_with_a_web_address_serves_the_page_and_health_beside_tcp()
    {
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--web", "http://127.0.0.1:0");
        var output = await server.WaitForOutputAsync(o => WebLine().IsMatch(o), TimeSpan.FromSeconds(60));
        var web = new Uri(WebLine().Match(output).Groups[1].Value);
        using var http = new HttpClient { BaseAddress = web, Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal("Healthy", await http.GetStringAsync("/healthz"));
        Assert.Contains("<title>Shout</title>", await http.GetStringAsync("/"), StringComparison.Ordinal);
        server.Signal(15);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Serve_with_web_none_serves_no_http()
    {
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--web", "none");
        var output = await server.WaitForLineAsync("listening on tcp://", TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("http://", output, StringComparison.Ordinal);
        server.Signal(15);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_bad_web_address_is_refused_with_a_hint()
    {
        var result = await CliRunner.ShoutAsync(["serve", "--web", "ftp://0.0.0.0:1"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("http://HOST:PORT", result.Stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"listening on (http://[^\s]+)")]
    private static partial Regex WebLine();
}
