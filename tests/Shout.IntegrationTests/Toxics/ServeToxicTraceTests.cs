using System.Globalization;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;
using Shout.Trace;

namespace Shout.IntegrationTests.Toxics;

/// <summary><c>shout trace</c> in front of <c>serve --toxic</c>: the delay a latency toxic adds is drawn where it happens.</summary>
public sealed partial class ServeToxicTraceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_latency_toxic_shows_in_the_trace_as_the_gap_before_the_servers_reply()
    {
        await using var serve = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--web", "none", "--toxic", "latency:downstream:latency=150");
        var address = $"127.0.0.1:{(await ServeToxicPorts.ReadAsync(serve, Timeout)).Public}";

        var json = await CliRunner.ShoutAsync(["trace", "-a", address, "--json", "--connections", "1", "--", "dotnet", Repo.CliDll, "send", "-a", address, "hello"],
            timeout: Timeout);
        Assert.True(json.ExitCode == 0, $"exit {json.ExitCode}\n{json.Stderr}");
        var packets = json.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(TraceJson.Deserialize).OfType<TracePacketLine>().ToList();
        var hello = packets.First(p => p is { From: "client", Length: > 0 });
        var reply = packets.First(p => p is { From: "server", Length: > 0 });
        Assert.True(reply.ElapsedMs - hello.ElapsedMs >= 140, $"the reply came {reply.ElapsedMs - hello.ElapsedMs:F1} ms after the request (150 ms set):\n{json.StdoutText}");
        Assert.True(reply.GapMs >= 10, $"nothing crossed the wire for {reply.GapMs:F1} ms before the reply:\n{json.StdoutText}");

        var plain = await CliRunner.ShoutAsync(["trace", "-a", address, "--connections", "1", "--", "dotnet", Repo.CliDll, "send", "-a", address, "hello"],
            timeout: Timeout);
        Assert.True(plain.ExitCode == 0, $"exit {plain.ExitCode}\n{plain.Stderr}");
        var lines = plain.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The silences between the request and its reply are drawn as lines of their own, the last just
        // before the reply; together they are the latency set (other packets, the client's FIN, may cut it).
        var request = Array.FindIndex(lines, l => l.Contains("\"hello\"", StringComparison.Ordinal));
        var answer = Array.FindIndex(lines, l => l.Contains("\"HELLO\"", StringComparison.Ordinal));
        Assert.True(request > 0 && answer > request && GapLine().IsMatch(lines[answer - 1]), plain.StdoutText);
        var silent = lines[request..answer].Where(l => GapLine().IsMatch(l))
            .Sum(l => double.Parse(GapLine().Match(l).Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.True(silent >= 140, $"{silent:F1} ms of drawn silence between the request and the reply (150 ms set):\n{plain.StdoutText}");
    }

    [GeneratedRegex(@"^#1 ⋮ ([\d.]+) ms$")]
    private static partial Regex GapLine();
}
