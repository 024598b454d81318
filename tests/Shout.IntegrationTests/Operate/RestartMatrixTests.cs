using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// RELIABILITY row 23 on every transport, the shape of <see cref="RestartTests"/>: clients that
/// connect (or send a datagram) over and over, each counting what became of every exchange, while
/// the server restarts on a socket systemd holds (tcp6, unix, tls, udp: the kinds a passed socket
/// can be) or hands over to a second <c>--reuse-port</c> process (tcp6, tls, and the web endpoint's
/// ws and wss). Nobody may be reset, refused or left unanswered.
/// </summary>
public sealed partial class RestartMatrixTests(ITestOutputHelper output)
{
    private const int Concurrency = 4;
    private const int Answers = 100;
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);

    /// <summary>Each instance makes its own self-signed certificate at start: trusted by its subject, which every one shares.</summary>
    private static readonly System.Net.Security.RemoteCertificateValidationCallback ShoutCertificate =
        (_, certificate, _, _) => certificate is not null && certificate.Subject.Contains("O=Shout", StringComparison.Ordinal);

    [Theory]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("udp")]
    public async Task Row23_restart_with_the_socket_held_resets_no_one_and_loses_no_reply(string name)
    {
        var activate = Tools.Require("systemd-socket-activate");
        var dir = Repo.TempDir();
        var path = Path.Combine(dir, "held.sock");
        var port = name == "udp" ? FreePorts.Udp() : FreePorts.Tcp();
        var portText = port.ToString(CultureInfo.InvariantCulture);
        string[] socketArgs = name switch
        {
            "tcp6" => ["-l", $"[::1]:{portText}"],
            "unix" => ["-l", path],
            "tls" => ["-l", $"127.0.0.1:{portText}", "--fdname=tls"],
            _ => ["-d", "-l", $"127.0.0.1:{portText}"],
        };
        var scheme = name == "tcp6" ? "tcp" : name;
        await using var supervisor = ProcessHarness.Start(activate, [.. socketArgs, "--", "sh", "-c", RestartTests.Supervisor, "supervisor", Repo.CliDll]);
        await supervisor.WaitForOutputAsync(o => o.Contains(" as 3", StringComparison.Ordinal), Startup, stderr: true);

        Func<string, Action, Task<string>> exchange = name switch
        {
            "tcp6" => (m, slow) => ContinuousExchanges.StreamAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), null, m, slow),
            "unix" => (m, slow) => ContinuousExchanges.StreamAsync(new UnixDomainSocketEndPoint(path), null, m, slow),
            "tls" => (m, slow) => ContinuousExchanges.StreamAsync(new IPEndPoint(IPAddress.Loopback, port), ShoutCertificate, m, slow),
            _ => (m, slow) => ContinuousExchanges.DatagramAsync(new IPEndPoint(IPAddress.Loopback, port), m, slow),
        };

        // The first connect (or datagram) makes the activator start the supervisor; it waits in the queue meanwhile.
        var clients = ContinuousClients.Start(exchange, Concurrency);
        var listening = new Regex($"Shout listening on {scheme}://");
        await supervisor.WaitForOutputAsync(o => listening.Count(o) >= 1, Startup);
        await clients.WaitForAnsweredAsync(Answers, Startup);

        await supervisor.Stdin.WriteLineAsync("restart");
        await supervisor.Stdin.FlushAsync();
        await supervisor.WaitForLineAsync("instance exited with 0", TimeSpan.FromSeconds(30));
        var atRestart = clients.Answered;
        await supervisor.WaitForOutputAsync(o => listening.Count(o) >= 2, Startup);
        await clients.WaitForAnsweredAsync(atRestart + Answers, Startup);
        await clients.StopAsync();

        await supervisor.Stdin.WriteLineAsync("stop");
        await supervisor.Stdin.FlushAsync();
        await supervisor.WaitForOutputAsync(o => o.Split('\n').Count(l => l == "instance exited with 0") == 2, TimeSpan.FromSeconds(30));

        var log = supervisor.Stdout;
        var second = log[listening.Matches(log)[1].Index..];
        var servedBySecond = AcceptedLine().Count(second);
        output.WriteLine($"{name} held socket restart: {clients.Summary}; peers accepted by the new instance: {servedBySecond}");
        Assert.True(clients.Resets == 0 && clients.Lost == 0 && clients.Refused == 0, $"{clients.Summary}\nlog:\n{Tail(log)}");
        Assert.True(servedBySecond > 0, $"the new instance served nobody:\n{Tail(log)}");
    }

    [Theory]
    [InlineData("tcp6")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Row23_reuse_port_handover_resets_no_one_and_loses_no_reply(string name)
    {
        string[] First(string port) => name switch
        {
            "tcp6" => ["-l", $"tcp://[::1]:{port}"],
            "tls" => ["-l", $"tls://127.0.0.1:{port}"],
            "ws" => ["-l", "tcp://127.0.0.1:0", "--web", $"http://127.0.0.1:{port}"],
            _ => ["-l", "tcp://127.0.0.1:0", "--web", $"https://127.0.0.1:{port}"],
        };
        var prefix = name switch
        {
            "tcp6" => "tcp://[::1]:",
            "tls" => "tls://127.0.0.1:",
            "ws" => "http://127.0.0.1:",
            _ => "https://127.0.0.1:",
        };

        await using var old = ProcessHarness.StartShout(["serve", .. First("0"), "--reuse-port", "-v"]);
        var port = await ListeningPortAsync(old, prefix);
        var portText = port.ToString(CultureInfo.InvariantCulture);
        await using var successor = ProcessHarness.StartShout(["serve", .. First(portText), "--reuse-port", "-v"]);
        Assert.Equal(port, await ListeningPortAsync(successor, prefix));

        Func<string, Action, Task<string>> exchange = name switch
        {
            "tcp6" => (m, slow) => ContinuousExchanges.StreamAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), null, m, slow),
            "tls" => (m, slow) => ContinuousExchanges.StreamAsync(new IPEndPoint(IPAddress.Loopback, port), ShoutCertificate, m, slow),
            "ws" => (m, slow) => ContinuousExchanges.WebSocketAsync(new Uri($"ws://127.0.0.1:{portText}/ws"), null, m, slow),
            _ => (m, slow) => ContinuousExchanges.WebSocketAsync(new Uri($"wss://127.0.0.1:{portText}/ws"), ShoutCertificate, m, slow),
        };
        var clients = ContinuousClients.Start(exchange, Concurrency);
        await clients.WaitForAnsweredAsync(Answers, Startup);
        await Eventually.TrueAsync(() => AcceptedLine().Count(old.Stdout) > 0, TimeSpan.FromSeconds(30), () => "the old process got no connection");

        old.Signal(15);
        Assert.Equal(0, await old.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var atExit = clients.Answered;
        await clients.WaitForAnsweredAsync(atExit + Answers, Startup);
        await clients.StopAsync();

        output.WriteLine($"{name} reuse-port handover: {clients.Summary}; old accepted {AcceptedLine().Count(old.Stdout)}, successor {AcceptedLine().Count(successor.Stdout)}; "
            + string.Join(" ", old.Stdout.Split('\n').Where(l => l.Contains("left the SO_REUSEPORT group", StringComparison.Ordinal))));
        Assert.Contains("left the SO_REUSEPORT group", old.Stdout, StringComparison.Ordinal);
        Assert.True(clients.Resets == 0 && clients.Lost == 0 && clients.Refused == 0, $"{clients.Summary}\nthe old process:\n{Tail(old.Stdout)}");
        Assert.True(AcceptedLine().Count(successor.Stdout) > 0, "the successor served nobody");
    }

    private static async Task<int> ListeningPortAsync(ProcessHarness process, string prefix)
    {
        var log = await process.WaitForOutputAsync(o => o.Contains("listening on " + prefix, StringComparison.Ordinal), Startup);
        var from = log.IndexOf("listening on " + prefix, StringComparison.Ordinal) + "listening on ".Length + prefix.Length;
        var digits = new string([.. log[from..].TakeWhile(char.IsAsciiDigit)]);
        return int.Parse(digits, CultureInfo.InvariantCulture);
    }

    private static string Tail(string log) => log.Length <= 8000 ? log : log[^8000..];

    [GeneratedRegex(@"\] \S+ \w+ accepted from ")]
    private static partial Regex AcceptedLine();
}
