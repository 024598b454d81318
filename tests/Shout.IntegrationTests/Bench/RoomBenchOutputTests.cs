using System.Text.Json;
using System.Text.RegularExpressions;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Bench;

/// <summary>
/// <c>shout bench room</c> prints as pingpong does: Ctrl+C reports what was measured marked
/// INTERRUPTED (exit 130), <c>-i</c> prints interval lines, piped output is plain lines, and
/// <c>--json</c> has snake_case names with their units. Numbers are never asserted against a speed.
/// </summary>
public sealed partial class RoomBenchOutputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    // Numbers without a unit in their name are counts of what the name says.
    private static readonly HashSet<string> Counts =
        ["members", "rooms", "senders", "lines_sent", "deliveries_owed", "delivered", "lost", "duplicated", "reordered", "malformed", "deliveries"];

    private static string[] Small(TestServer server, params string[] more) =>
        ["bench", "room", "-a", server.Endpoint.ToString(), "--members", "6", "--senders", "2", "--rate", "50", .. more];

    [Fact]
    public async Task An_interrupted_room_run_is_reported_marked_and_exits_130()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        await using var bench = ProcessHarness.StartShout(Small(server, "-d", "60s", "-i", "500ms"));

        // An interval line proves it is sending; then Ctrl+C.
        await bench.WaitForLineAsync("deliveries/s", Timeout);
        bench.Signal(2);
        Assert.Equal(130, await bench.WaitForExitAsync(Timeout));
        Assert.Matches(@"(?m)^INTERRUPTED: +stopped early by Ctrl\+C; [\d.]+ s measured$", bench.Stdout);
        Assert.Matches(@"(?m)^lost / duplicated / reordered: +0 / 0 / 0$", bench.Stdout);
    }

    [Fact]
    public async Task Interval_lines_are_printed_as_the_run_goes()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        var result = await CliRunner.ShoutAsync(Small(server, "-d", "2s", "-i", "500ms"), timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = IntervalLine().Matches(result.StdoutText);
        Assert.True(lines.Count >= 2, result.StdoutText);
        Assert.Equal("0.0", lines[0].Groups[1].Value);
    }

    [Fact]
    public async Task Piped_output_is_plain_name_value_lines()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        var result = await CliRunner.ShoutAsync(Small(server, "-d", "1s"), timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var text = result.StdoutText;
        Assert.DoesNotMatch(BoxDrawing(), text);
        Assert.DoesNotContain("\u001b[", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^bench room +tcp://127\.0\.0\.1:\d+$", text);
        Assert.Matches(@"(?m)^deliveries/s: +[\d,]+$", text);
        Assert.Matches(@"(?m)^delivered \(once, in order\): +[\d,]+$", text);
        Assert.Matches(@"(?m)^fan-out latency p50/p99/p99\.9/max: +[\d,]+ / [\d,]+ / [\d,]+ / [\d,]+ µs$", text);
        Assert.DoesNotContain("INTERRUPTED", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_names_are_snake_case_with_their_units()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        var result = await CliRunner.ShoutAsync(Small(server, "-d", "1s", "-i", "500ms", "--json"), timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        foreach (var name in new[] { "measured_seconds", "deliveries_per_second", "latency_p50_us", "latency_p99_us", "latency_max_us",
            "lines_sent", "deliveries_owed", "delivered", "client_cpu_seconds", "server_cpu_us_per_delivery", "interrupted", "intervals" })
        {
            Assert.True(root.TryGetProperty(name, out _), $"no {name} in {root}");
        }

        AssertSnakeCaseWithUnits(root);
        Assert.Equal("room", root.GetProperty("mode").GetString());
        Assert.False(root.GetProperty("interrupted").GetBoolean());
        Assert.Equal(root.GetProperty("deliveries_owed").GetInt64(), root.GetProperty("delivered").GetInt64());
        Assert.True(root.GetProperty("latency_p50_us").GetDouble() > 0);
        Assert.NotEmpty(root.GetProperty("intervals").EnumerateArray());
    }

    [Fact]
    public async Task Pingpong_counts_wrong_replies_over_the_same_span_as_messages()
    {
        // Every reply is wrong (an echo, not uppercase): the wrong replies of the warm-up must not be added to the measured ones.
        await using var echo = new WrongEchoServer();
        var result = await CliRunner.ShoutAsync(["bench", "-a", echo.Endpoint.ToString(), "-d", "1s", "--warmup", "1s", "--json"], timeout: Timeout);
        Assert.Equal(2, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var messages = json.RootElement.GetProperty("messages").GetInt64();
        var mismatches = json.RootElement.GetProperty("mismatches").GetInt64();
        Assert.True(mismatches > 0, "no wrong reply counted");
        Assert.True(mismatches <= messages, $"{mismatches} mismatches beside {messages} messages");
    }

    [Fact]
    public async Task Hold_prints_no_cpu_per_message()
    {
        await using var server = await TestServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["bench", "hold", "-a", server.Endpoint.ToString(), "-c", "20", "-R", "200", "-d", "200ms"],
            timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Matches(@"(?m)^connect rate: ", result.StdoutText);
        Assert.DoesNotContain("CPU/msg", result.StdoutText, StringComparison.Ordinal);

        var json = await CliRunner.ShoutAsync(["bench", "hold", "-a", server.Endpoint.ToString(), "-c", "20", "-R", "200", "-d", "200ms", "--json"],
            timeout: Timeout);
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("server_cpu_us_per_message").ValueKind);
    }

    private static void AssertSnakeCaseWithUnits(JsonElement element)
    {
        foreach (var property in element.EnumerateObject())
        {
            Assert.Matches("^[a-z0-9_]+$", property.Name);
            if (property.Value.ValueKind == JsonValueKind.Number)
            {
                Assert.True(Counts.Contains(property.Name) || UnitSuffix().IsMatch(property.Name), $"{property.Name} has no unit in its name");
            }
            else if (property.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in property.Value.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object))
                {
                    AssertSnakeCaseWithUnits(item);
                }
            }
        }
    }

    [GeneratedRegex(@"_(seconds|us|bytes|per_second|per_delivery)$")]
    private static partial Regex UnitSuffix();

    [GeneratedRegex(@"(?m)^\[ *([\d.]+)- *[\d.]+ s\] +[\d,]+ deliveries/s +[\d,]+ lines/s sent$")]
    private static partial Regex IntervalLine();

    [GeneratedRegex("[─│╭╮╰╯┌┐└┘├┤]")]
    private static partial Regex BoxDrawing();
}
