using System.Text.Json;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Bench;

/// <summary>
/// What <c>shout bench</c> prints states what it measured: units in every JSON name, interval
/// reports, mode-specific rows, plain text when piped, "unknown" for what it could not see, and
/// an interrupted run marked and non-zero. Numbers are never asserted against a speed.
/// </summary>
public sealed partial class BenchOutputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // Numbers without a unit in their name are counts of something named by the field.
    private static readonly HashSet<string> Counts =
        ["connections", "connections_opened", "pipeline", "messages", "mismatches", "server_pid", "connections_held", "open_connections", "errors"];

    [Fact]
    public async Task Json_fields_carry_their_units_and_intervals_are_reported()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["bench", "-a", server.Endpoint.ToString(), "-c", "2", "-d", "2s", "--warmup", "200ms",
            "-i", "1s", "--json"], timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        foreach (var name in new[] { "measured_seconds", "messages_per_second", "megabytes_per_second", "latency_p50_us", "latency_p99_us",
            "latency_max_us", "reply_bytes", "size_bytes", "client_cpu_us_per_message", "server_cpu_us_per_message" })
        {
            Assert.True(root.TryGetProperty(name, out _), $"no {name} in {root}");
        }

        AssertEveryNumberHasAUnit(root);
        Assert.False(root.GetProperty("interrupted").GetBoolean());
        var intervals = root.GetProperty("intervals").EnumerateArray().ToList();
        Assert.InRange(intervals.Count, 1, 4);
        Assert.Equal(0, intervals[0].GetProperty("start_seconds").GetDouble());
        // The intervals cover the measured phase between progress snapshots, a few milliseconds off its exact bounds.
        var measured = root.GetProperty("messages").GetInt64();
        Assert.InRange(intervals.Sum(i => i.GetProperty("messages").GetInt64()), measured * 0.8, measured * 1.2);
    }

    [Fact]
    public async Task Piped_output_is_plain_text_and_says_unknown_for_what_it_could_not_see()
    {
        await using var server = await TestServer.StartAsync();

        // A pid that no process has: the server's CPU cannot be read.
        var result = await CliRunner.ShoutAsync(["bench", "-a", server.Endpoint.ToString(), "-d", "1s", "--warmup", "0s", "--server-pid", "2147483647"],
            timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var text = result.StdoutText;
        Assert.DoesNotMatch(BoxDrawing(), text);
        Assert.Matches(@"(?m)^throughput: +[\d,]+ msgs/s, [\d.]+ MB/s", text);
        Assert.Matches(@"(?m)^latency p50/p90/p99: +[\d,]+ / [\d,]+ / [\d,]+ µs$", text);
        Assert.Matches(@"(?m)^server CPU/msg: +unknown", text);
        Assert.DoesNotContain("0.00 µs", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hold_reports_its_connect_rate_not_pingpong_rows()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["bench", "hold", "-a", server.Endpoint.ToString(), "-c", "20", "-R", "200", "-d", "200ms"],
            timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Matches(@"(?m)^connect rate: +[\d,]+ connections/s \(20 in [\d.]+ s\)$", result.StdoutText);
        Assert.DoesNotContain("latency p50/p90/p99", result.StdoutText, StringComparison.Ordinal);
        Assert.DoesNotContain("throughput", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rate_paces_each_connection()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["bench", "-a", server.Endpoint.ToString(), "-c", "2", "--rate", "50", "-d", "1s", "--warmup", "0s",
            "--json"], timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var seconds = json.RootElement.GetProperty("measured_seconds").GetDouble();

        // An upper bound only: pacing can never send more than rate × connections × time (+ the first message each).
        Assert.InRange(json.RootElement.GetProperty("messages").GetInt64(), 1, (long)(2 * 50 * (seconds + 0.1)) + 2);
    }

    [Fact]
    public async Task An_interrupted_run_is_marked_and_exits_non_zero()
    {
        await using var server = await TestServer.StartAsync();
        await using var bench = ProcessHarness.StartShout("bench", "-a", server.Endpoint.ToString(), "-d", "60s", "--warmup", "0s", "-i", "500ms");

        // An interval line proves it is measuring; then Ctrl+C.
        await bench.WaitForLineAsync("msgs/s", Timeout);
        bench.Signal(2);
        Assert.Equal(130, await bench.WaitForExitAsync(Timeout));
        Assert.Matches(@"(?m)^INTERRUPTED: +stopped early by Ctrl\+C; [\d.]+ s measured$", bench.Stdout);
    }

    private static void AssertEveryNumberHasAUnit(JsonElement element)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number)
            {
                Assert.True(Counts.Contains(property.Name) || UnitSuffix().IsMatch(property.Name), $"{property.Name} has no unit in its name");
            }
            else if (property.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in property.Value.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object))
                {
                    AssertEveryNumberHasAUnit(item);
                }
            }
        }
    }

    [GeneratedRegex(@"_(seconds|us|bytes|per_second|per_message)$")]
    private static partial Regex UnitSuffix();

    [GeneratedRegex("[─│╭╮╰╯┌┐└┘├┤]")]
    private static partial Regex BoxDrawing();
}
