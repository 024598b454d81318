using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// The address forms nc, websocat and socat users type, through <c>send</c> and <c>chat</c>: each
/// works (the server answers the message alone) or is refused with its one-line hint; never is the
/// address sent as data. The default address ($SHOUT_ADDRESS) is a recorder that must receive
/// nothing, except what <c>--</c> explicitly sends as text.
/// </summary>
public sealed partial class PeerFormsTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Nc_websocat_and_socat_forms_work_in_send_and_chat_or_are_refused_in_one_line_never_sent_as_data()
    {
        var unix = Path.Combine(Repo.TempDir(), "peer.sock");
        await using var serve = ProcessHarness.StartShout("serve", "--listen", "127.0.0.1:0", "--listen", $"unix://{unix}",
            "--listen", "udp://127.0.0.1:0", "--web", "http://127.0.0.1:0");
        var log = await serve.WaitForOutputAsync(o => Listening().Count(o) >= 4, Startup);
        string Port(string prefix) =>
            new([.. Listening().Matches(log).Select(m => m.Groups[1].Value).First(a => a.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..].TakeWhile(char.IsAsciiDigit)]);
        var tcp = Port("tcp://127.0.0.1:");
        var udp = Port("udp://127.0.0.1:");
        var web = Port("http://127.0.0.1:");
        await using var fallback = new RecordingServer(RecordingServer.Mode.Upper);
        var env = new Dictionary<string, string> { ["SHOUT_ADDRESS"] = $"127.0.0.1:{fallback.Port}" };

        // (args, stdin, expected exit code, expected stdout, expected stderr or null when only the exit and stdout matter)
        var table = new (string[] Args, string? Stdin, int Exit, string Stdout, string? Stderr)[]
        {
            (["send", "127.0.0.1", tcp, "hello"], null, 0, "HELLO\n", ""),
            (["send", "127.0.0.1", tcp], "piped\n", 0, "PIPED\n", ""),
            (["send", "localhost", tcp, "two", "words"], null, 0, "TWO WORDS\n", ""),
            (["send", $"127.0.0.1:{tcp}", "hello"], null, 0, "HELLO\n", ""),
            (["send", $"tcp://127.0.0.1:{tcp}", "hello"], null, 0, "HELLO\n", ""),
            (["send", $"ws://127.0.0.1:{web}/ws", "hello"], null, 0, "HELLO\n", ""),
            (["send", $"unix://{unix}", "hello"], null, 0, "HELLO\n", ""),
            (["send", $"udp://127.0.0.1:{udp}", "hello"], null, 0, "HELLO\n", ""),
            (["send", "-u", "127.0.0.1", udp, "hello"], null, 0, "HELLO\n", ""),
            (["send", "-a", $"TCP:127.0.0.1:{tcp}", "hello"], null, 0, "HELLO\n", ""),
            (["send", "-a", $"tcp4:127.0.0.1:{tcp}", "hello"], null, 0, "HELLO\n", ""),
            (["send", "-a", $"UDP:127.0.0.1:{udp}", "hello"], null, 0, "HELLO\n", ""),
            (["send", "-a", $"UNIX-CONNECT:{unix}", "hello"], null, 0, "HELLO\n", ""),
            (["send", "-a", $"unix:{unix}", "hello"], null, 0, "HELLO\n", ""),
            (["send", "-a", $"tcp://127.0.0.1:{tcp}", "127.0.0.1", "9"], null, 0, $"127.0.0.1 9\n", ""),
            (["send", "http://127.0.0.1/", "hi"], null, 2, "",
                "shout send: 'http://127.0.0.1/': unknown scheme 'http://'; use tcp, udp, unix, tls, ws or wss (to send it as text: shout send -- http://127.0.0.1/)\n"
                + "Try 'shout send --help' for more information.\n"),
            (["send", "-a", $"tcp://127.0.0.1:{tcp}", $"ws://127.0.0.1:{web}/ws"], null, 2, "",
                $"shout send: two addresses: -a and 'ws://127.0.0.1:{web}/ws'; give one (to send 'ws://127.0.0.1:{web}/ws' as text: shout send -a ADDRESS -- ws://127.0.0.1:{web}/ws)\n"
                + "Try 'shout send --help' for more information.\n"),
            (["send", "-a", $"TCP:127.0.0.1:{tcp},reuseaddr", "hi"], null, 2, "",
                $"shout send: --address: 'TCP:127.0.0.1:{tcp},reuseaddr': socat options (',reuseaddr') are not taken; write the address alone, e.g. TCP:127.0.0.1:{tcp}\n"
                + "Try 'shout send --help' for more information.\n"),
            (["chat", $"127.0.0.1:{tcp}"], "one\nquit\n", 0, "ONE\nQUIT\n", null),
            (["chat", "127.0.0.1", tcp], "one\nquit\n", 0, "ONE\nQUIT\n", null),
            (["chat", $"ws://127.0.0.1:{web}/ws"], "one\nquit\n", 0, "ONE\nQUIT\n", null),
            (["chat", $"unix:{unix}"], "one\nquit\n", 0, "ONE\nQUIT\n", null),
            (["chat", "-a", $"TCP:127.0.0.1:{tcp}"], "one\nquit\n", 0, "ONE\nQUIT\n", null),
            (["chat", "-a", $"UNIX-CONNECT:{unix}"], "one\nquit\n", 0, "ONE\nQUIT\n", null),
            (["chat", "some", "words", "here"], "one\nquit\n", 2, "",
                "shout chat: unexpected argument 'some words here': expected an address (HOST PORT, HOST:PORT or a URL such as ws://HOST:PORT/ws), or -a ADDRESS\n"
                + "Try 'shout chat --help' for more information.\n"),
            (["chat", "-a", $"127.0.0.1:{tcp}", $"127.0.0.1:{tcp}"], "one\nquit\n", 2, "",
                $"shout chat: unexpected argument '127.0.0.1:{tcp}': the address is given by -a already\n"
                + "Try 'shout chat --help' for more information.\n"),
        };

        var failures = new List<string>();
        foreach (var row in table)
        {
            var result = await CliRunner.ShoutAsync(row.Args, row.Stdin is null ? null : System.Text.Encoding.UTF8.GetBytes(row.Stdin), Command, env);
            if (result.ExitCode != row.Exit || result.StdoutText != row.Stdout || (row.Stderr is not null && result.Stderr != row.Stderr))
            {
                failures.Add($"shout {string.Join(' ', row.Args)}: exit {result.ExitCode}, stdout '{result.StdoutText}', stderr '{result.Stderr}'");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal("", fallback.Received);
    }

    [Fact]
    public async Task After_double_dash_HOST_PORT_is_text_sent_to_the_default_address()
    {
        await using var fallback = new RecordingServer(RecordingServer.Mode.Upper);
        var env = new Dictionary<string, string> { ["SHOUT_ADDRESS"] = $"127.0.0.1:{fallback.Port}" };
        var result = await CliRunner.ShoutAsync(["send", "--", "127.0.0.1", "8080"], timeout: Command, environment: env);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("127.0.0.1 8080\n", result.StdoutText);
        Assert.Equal("127.0.0.1 8080", fallback.Received);
    }

    [Fact]
    public async Task Nc_HOST_PORT_dials_that_address_and_sends_only_the_message()
    {
        await using var target = new RecordingServer(RecordingServer.Mode.Upper);
        await using var fallback = new RecordingServer(RecordingServer.Mode.Upper);
        var env = new Dictionary<string, string> { ["SHOUT_ADDRESS"] = $"127.0.0.1:{fallback.Port}" };
        var result = await CliRunner.ShoutAsync(["send", "127.0.0.1", target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "hi"],
            timeout: Command, environment: env);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("hi", target.Received);
        Assert.Equal("", fallback.Received);
        Assert.Equal(0, fallback.Connections);
    }

    [GeneratedRegex(@"listening on (\S+)")]
    private static partial Regex Listening();
}
