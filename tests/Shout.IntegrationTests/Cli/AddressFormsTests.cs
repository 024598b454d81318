using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Every address form the README's "Transports" section documents, through every command that
/// takes one: <c>serve --listen</c> (each form a server can listen on; ws:// and wss:// refused with
/// the documented line), then <c>send -a</c>, <c>chat -a</c> (piped) and a short <c>bench -a</c>
/// against each. A form that works must work in all three clients; a refusal is one line.
/// </summary>
public sealed partial class AddressFormsTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_documented_address_form_works_in_serve_send_chat_and_bench_or_is_refused_in_one_line()
    {
        var unix = Path.Combine(Repo.TempDir(), "forms.sock");

        // serve --listen: a bare HOST:PORT, tcp:// over IPv6, unix://, tls://, udp://, and the page (ws) on --web http://.
        await using var plain = ProcessHarness.StartShout("serve", "--listen", "127.0.0.1:0", "--listen", "tcp://[::1]:0", "--listen", $"unix://{unix}",
            "--listen", "tls://127.0.0.1:0", "--listen", "udp://127.0.0.1:0", "--web", "http://127.0.0.1:0");
        // [::] listens on IPv6 and IPv4 at once; the page over TLS (wss) on --web https://.
        await using var secure = ProcessHarness.StartShout("serve", "--listen", "tcp://[::]:0", "--web", "https://127.0.0.1:0");
        var plainLog = await plain.WaitForOutputAsync(o => Listening().Count(o) >= 6 && Fingerprint().IsMatch(o), Startup);
        var secureLog = await secure.WaitForOutputAsync(o => Listening().Count(o) >= 2 && Fingerprint().IsMatch(o), Startup);
        string Port(string log, string prefix) =>
            new([.. Listening().Matches(log).Select(m => m.Groups[1].Value).First(a => a.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..].TakeWhile(char.IsAsciiDigit)]);
        var tcp = Port(plainLog, "tcp://127.0.0.1:");
        var any = Port(secureLog, "tcp://[::]:");
        string[] plainPin = ["--pin", Fingerprint().Match(plainLog).Groups[1].Value];
        string[] securePin = ["--pin", Fingerprint().Match(secureLog).Groups[1].Value];

        var forms = new (string Address, string[] Options)[]
        {
            ($"tcp://127.0.0.1:{tcp}", []),
            ($"127.0.0.1:{tcp}", []),
            ($"tcp://localhost:{tcp}", []),
            ($"tcp://[::1]:{Port(plainLog, "tcp://[::1]:")}", []),
            ($"tcp://[::1]:{any}", []),
            ($"127.0.0.1:{any}", []),
            ($"unix://{unix}", []),
            ($"tls://127.0.0.1:{Port(plainLog, "tls://127.0.0.1:")}", plainPin),
            ($"udp://127.0.0.1:{Port(plainLog, "udp://127.0.0.1:")}", []),
            ($"127.0.0.1:{Port(plainLog, "udp://127.0.0.1:")}", ["-u"]),
            ($"ws://127.0.0.1:{Port(plainLog, "http://127.0.0.1:")}/ws", []),
            ($"wss://127.0.0.1:{Port(secureLog, "https://127.0.0.1:")}/ws", securePin),
        };

        var failures = new List<string>();
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(forms.Select(async form =>
        {
            await gate.WaitAsync();
            try
            {
                var send = await CliRunner.ShoutAsync(["send", "-a", form.Address, .. form.Options, "hello", "form"], timeout: Command);
                Check(form.Address, "send", send, send.StdoutText == "HELLO FORM\n");
                var chat = await CliRunner.ShoutAsync(["chat", "-a", form.Address, .. form.Options], "one\ntwo\nquit\n"u8.ToArray(), Command);
                Check(form.Address, "chat", chat, chat.StdoutText == "ONE\nTWO\nQUIT\n");
                var bench = await CliRunner.ShoutAsync(["bench", "-a", form.Address, .. form.Options, "-c", "2", "-d", "300ms", "--warmup", "0s", "--json"], timeout: Command);
                Check(form.Address, "bench", bench, bench.ExitCode == 0 && BenchChecked(bench.StdoutText));
            }
            finally
            {
                gate.Release();
            }
        }));

        void Check(string address, string command, CommandResult result, bool right)
        {
            if (result.ExitCode != 0 || !right)
            {
                lock (failures)
                {
                    failures.Add($"{command} -a {address}: exit {result.ExitCode}, stdout '{result.StdoutText.Trim()}', stderr '{result.Stderr.Trim()}'");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));

        // What the README says cannot be listened on, and a refused dial: one line, non-zero, no stack trace.
        foreach (var address in new[] { "ws://127.0.0.1:0/ws", "wss://127.0.0.1:0/ws" })
        {
            var refused = await CliRunner.ShoutAsync(["serve", "--listen", address], timeout: Command);
            AssertOneLineError(refused, $"serve --listen {address}", "WebSocket is served on the web endpoint; use --web http://HOST:PORT");
        }

        var nobody = await CliRunner.ShoutAsync(["send", "-a", "127.0.0.1:1", "hi"], timeout: Command);
        AssertOneLineError(nobody, "send -a 127.0.0.1:1", "shout: connection refused (tcp://127.0.0.1:1)");
        Assert.Equal(1, nobody.ExitCode);

        plain.Signal(15);
        secure.Signal(15);
        Assert.Equal(0, await plain.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await secure.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Bench measured something and every reply it checked was right.</summary>
    private static bool BenchChecked(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return root.GetProperty("messages").GetInt64() > 0 && root.GetProperty("mismatches").GetInt64() == 0 
            && root.GetProperty("errors").EnumerateObject().All(e => e.Value.GetInt64() == 0);
    }

    private static void AssertOneLineError(CommandResult result, string what, string expected)
    {
        var error = result.Stderr.TrimEnd('\n');
        Assert.True(result.ExitCode != 0, $"{what}: exit 0");
        Assert.True(!error.Contains('\n', StringComparison.Ordinal) && error.Contains(expected, StringComparison.Ordinal) && !error.Contains("   at ", StringComparison.Ordinal),
            $"{what}: stderr '{result.Stderr}'");
    }

    [GeneratedRegex(@"listening on (\S+)")]
    private static partial Regex Listening();

    [GeneratedRegex(@"SHA-256 fingerprint ([0-9A-Fa-f:]+)")]
    private static partial Regex Fingerprint();
}
