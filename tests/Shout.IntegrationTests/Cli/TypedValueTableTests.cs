using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Shout.Cli.Commands;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Row 31 (and row 22): every duration, count and size option of every command, given a value that
/// is not a number, overflows, or is absurd, from a flag, a <c>SHOUT_</c> variable or the config file.
/// Each is refused before anything starts: exit 2, one line naming the option (plus the pointer to
/// --help for a flag), no stack trace, nothing on stdout, nothing dialed. Serve listens on a port the
/// test holds, so a serve that got as far as listening would fail with "address already in use"
/// (exit 1) instead. The options are read from the commands themselves, so a new one is covered.
/// </summary>
public sealed partial class TypedValueTableTests
{
    private static readonly string[] Durations = ["NaN", "Infinity", "-1", "1e400", "50d"];
    private static readonly string[] Counts = ["99999999999", "-1"];

    /// <summary>Options where the largest int is accepted by the type but absurd as a value.</summary>
    private static readonly HashSet<string> Bounded =
    [
        "serve --max-line", "serve --block-size", "serve --io-queues", "serve --room-queue", "serve --room-history", "serve --bus-replicas",
        "bench --connections", "bench --pipeline", "bench --size", "bench room --members", "bench room --rooms", "bench room --senders",
        "states --port", "trace --port",
    ];

    private static readonly HashSet<string> RoomBenchOptions = ["--members", "--rooms", "--senders", "--instance"];

    private static readonly Dictionary<string, Func<Command>> Commands = new()
    {
        ["serve"] = ServeCommand.Create,
        ["send"] = SendCommand.Create,
        ["chat"] = ChatCommand.Create,
        ["bench"] = BenchCommand.Create,
        ["states"] = StatesCommand.Create,
        ["trace"] = TraceCommand.Create,
        ["proxy"] = ProxyCommand.Create,
    };

    public static TheoryData<string, string, string> FlagCases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var (name, create) in Commands)
        {
            foreach (var option in create().Options)
            {
                var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
                type = type.IsArray ? type.GetElementType()! : type;
                var command = name == "bench" && RoomBenchOptions.Contains(option.Name) ? "bench room" : name;
                var values = type == typeof(TimeSpan) ? Durations
                    : type == typeof(int) ? Bounded.Contains($"{command} {option.Name}") ? [.. Counts, "2147483647"] : Counts
                    : [];
                foreach (var value in values)
                {
                    cases.Add(command, option.Name, value);
                }
            }
        }

        return cases;
    }

    public static TheoryData<string, string, string> ServeSourceCases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var setting in ServeSettings.All)
        {
            var type = setting.Option.ValueType.IsArray ? setting.Option.ValueType.GetElementType()! : setting.Option.ValueType;
            var values = type == typeof(TimeSpan) ? Durations
                : type == typeof(int) ? Bounded.Contains($"serve {setting.Flag}") ? [.. Counts, "2147483647"] : Counts
                : [];
            foreach (var value in values)
            {
                cases.Add("env", setting.Key, value);
                cases.Add("config", setting.Key, value);
            }
        }

        return cases;
    }

    [Fact]
    public async Task The_table_covers_every_command_of_the_cli()
    {
        var help = await CliRunner.ShoutAsync(["--help"]);
        var listed = CommandLine().Matches(help.StdoutText[help.StdoutText.IndexOf("Commands:", StringComparison.Ordinal)..])
            .Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(Commands.Keys.Order(), listed.Order());
    }

    [Theory]
    [MemberData(nameof(FlagCases))]
    public async Task A_flag_value_that_is_not_a_number_or_too_large_is_one_line_and_exit_2(string command, string option, string value)
    {
        using var held = Hold();
        string[] args = [.. command.Split(' '), .. Address(command, held), option, value];
        if (command == "send")
        {
            args = [.. args, "hi"];
        }

        var result = await CliRunner.ShoutAsync(args, stdin: "data\n"u8.ToArray(), timeout: TimeSpan.FromSeconds(60),
            environment: new Dictionary<string, string> { ["SHOUT_ADDRESS"] = $"127.0.0.1:{Port(held)}" });
        AssertRefused(result, $"{option}: ", held);
    }

    [Theory]
    [MemberData(nameof(ServeSourceCases))]
    public async Task A_serve_value_from_the_environment_or_config_file_is_refused_the_same_way(string source, string key, string value)
    {
        using var held = Hold();
        var setting = ServeSettings.All.Single(s => s.Key == key);
        var dir = Repo.TempDir();
        try
        {
            string[] args = ["serve", .. Address("serve", held)];
            var environment = new Dictionary<string, string>();
            string named;
            if (source == "env")
            {
                environment[setting.EnvironmentVariable] = value;
                named = $"{setting.EnvironmentVariable}: ";
            }
            else
            {
                var file = Path.Combine(dir, "shout.json");
                var json = value.All(c => char.IsAsciiDigit(c) || c == '-') ? value : $"\"{value}\"";
                await File.WriteAllTextAsync(file, $$"""{ "Shout": { "{{key}}": {{json}} } }""");
                args = [.. args, "--config", file];
                named = $"config Shout:{key}: ";
            }

            var result = await CliRunner.ShoutAsync(args, timeout: TimeSpan.FromSeconds(60), environment: environment);
            AssertRefused(result, named, held);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("send", "ws")]
    [InlineData("send", "wss")]
    [InlineData("chat", "ws")]
    [InlineData("chat", "wss")]
    [InlineData("bench", "ws")]
    [InlineData("bench", "wss")]
    public async Task Timeouts_that_add_up_past_the_timer_limit_do_not_overflow_the_dialer(string command, string scheme)
    {
        // Each is the longest a timer holds; the WebSocket dialer adds them (every address, then TLS),
        // which used to throw from CancelAfter before dialing. Nothing listens on port 1: refused.
        string[] args = [command, "-a", $"{scheme}://127.0.0.1:1/ws", "--connect-timeout", "4294967294ms", "--tls-handshake-timeout", "4294967294ms"];
        args = command switch
        {
            "send" => [.. args, "hi"],
            "bench" => [.. args, "-d", "1s", "--warmup", "0s"],
            _ => args,
        };
        var result = await CliRunner.ShoutAsync(args, stdin: [], timeout: TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"connection refused ({scheme}://127.0.0.1:1/ws)", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Send_fails_when_the_server_closes_without_answering(bool fromStdin)
    {
        // What every connection met with --block-size 2147483647, and what a refused client meets:
        // the connection ends with nothing answered, which used to print an empty line and exit 0.
        using var held = Hold();
        string[] args = ["send", "-a", $"127.0.0.1:{Port(held)}", .. fromStdin ? Array.Empty<string>() : ["hi"]];
        var run = CliRunner.ShoutAsync(args, stdin: "hi\n"u8.ToArray(), timeout: TimeSpan.FromSeconds(60));
        using (var peer = await held.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(30)))
        {
            var buffer = new byte[16];
            Assert.True(await peer.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(30)) > 0);
        }

        var result = await run;
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"shout: tcp://127.0.0.1:{Port(held)} closed the connection without answering", result.Stderr.Trim());
        Assert.Empty(result.Stdout);
    }

    /// <summary>A listener the command's address points at: anything dialed shows up as pending.</summary>
    private static TcpListener Hold()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }

    private static int Port(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;

    private static string[] Address(string command, TcpListener held) => command switch
    {
        "serve" => ["-l", $"tcp://127.0.0.1:{Port(held)}"],
        "states" => [],
        "proxy" => ["-l", $"tcp://127.0.0.1:{Port(held)}", "--to", "127.0.0.1:9", "--api", "none"],
        _ => ["-a", $"127.0.0.1:{Port(held)}"],
    };

    private static void AssertRefused(CommandResult result, string named, TcpListener held)
    {
        var all = result.StdoutText + result.Stderr;
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", all, StringComparison.Ordinal);
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var pointer = lines.Length == 2 && lines[1].StartsWith("Try 'shout ", StringComparison.Ordinal);
        Assert.True(lines.Length == 1 || pointer, $"expected one line, got:\n{result.Stderr}");
        Assert.StartsWith("shout", lines[0], StringComparison.Ordinal);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.False(held.Pending(), "the command dialed although its value was refused");
    }

    [GeneratedRegex(@"^  (\w+)", RegexOptions.Multiline)]
    private static partial Regex CommandLine();
}
