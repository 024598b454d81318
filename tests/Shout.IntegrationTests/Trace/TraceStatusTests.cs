using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Trace;

/// <summary>
/// <c>shout trace</c>'s first line says in words what it captures (the BPF filter only with -v),
/// and Ctrl+C ends it with 130, as chat and bench.
/// </summary>
public sealed class TraceStatusTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_status_line_names_port_address_and_interface_and_ctrl_c_exits_130()
    {
        await using var server = await TestServer.StartAsync();
        var port = server.Endpoint.Port;
        await using var trace = ProcessHarness.StartShout("trace", "-a", server.Endpoint.ToString());
        var line = await trace.WaitForLineAsync("Ctrl+C to stop", Timeout, stderr: true);
        Assert.Contains($"shout: tracing TCP and UDP port {port} to and from 127.0.0.1 on interface lo (loopback); Ctrl+C to stop", trace.Stderr,
            StringComparison.Ordinal);
        Assert.DoesNotContain("tcp port", trace.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("filter", line, StringComparison.Ordinal);

        trace.Signal(2);
        Assert.Equal(130, await trace.WaitForExitAsync(Timeout));
        Assert.DoesNotContain("   at ", trace.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_adds_the_capture_filter()
    {
        await using var trace = ProcessHarness.StartShout("trace", "--port", "8080", "-v");
        await trace.WaitForLineAsync("capture filter:", Timeout, stderr: true);
        Assert.Contains("shout: tracing TCP and UDP port 8080 to and from 127.0.0.1 on interface lo (loopback); Ctrl+C to stop", trace.Stderr,
            StringComparison.Ordinal);
        Assert.Contains("shout: capture filter: ", trace.Stderr, StringComparison.Ordinal);
        Assert.Contains("port 8080", trace.Stderr, StringComparison.Ordinal);
        trace.Signal(2);
        Assert.Equal(130, await trace.WaitForExitAsync(Timeout));
    }
}
