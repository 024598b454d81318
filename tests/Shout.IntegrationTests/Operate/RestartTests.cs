using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// Restarts under continuous connects, counted by the client: with the listening socket held by
/// systemd-socket-activate (as systemd holds it across <c>systemctl restart</c>), and with two
/// <c>--reuse-port</c> processes where one stops. Nobody may be reset, refused or left unanswered.
/// </summary>
public sealed partial class RestartTests(ITestOutputHelper output)
{
    private const int Concurrency = 4;
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs under systemd-socket-activate, which passes the socket as descriptor 3: starts a shout
    /// instance on it, and on each line read stops the instance (SIGTERM, wait) and, for "restart",
    /// starts the next one on the same socket — what systemd does for a socket-activated service.
    /// </summary>
    internal const string Supervisor = """
        start() {
          sh -c 'LISTEN_PID=$$ exec "$@"' instance dotnet "$1" serve --web none -v &
          pid=$!
        }
        start "$1"
        while read -r command; do
          kill -TERM "$pid"; wait "$pid"; echo "instance exited with $?"
          if [ "$command" = restart ]; then start "$1"; else exit 0; fi
        done
        """;

    [Fact]
    public async Task Restart_with_the_socket_held_resets_no_one_and_loses_no_reply()
    {
        var activate = Tools.Require("systemd-socket-activate");
        var port = FreePorts.Tcp();
        await using var supervisor = ProcessHarness.Start(activate, ["-l", $"127.0.0.1:{port}", "--", "sh", "-c", Supervisor, "supervisor", Repo.CliDll]);
        await supervisor.WaitForLineAsync($"Listening on 127.0.0.1:{port} as 3", Startup, stderr: true);

        // The first connect makes the activator start the supervisor; it waits in the queue meanwhile.
        var clients = ContinuousClients.Start(new IPEndPoint(IPAddress.Loopback, port), Concurrency);
        await supervisor.WaitForOutputAsync(o => ListeningLine().Count(o) >= 1, Startup);
        await clients.WaitForAnsweredAsync(200, Startup);

        await supervisor.Stdin.WriteLineAsync("restart");
        await supervisor.Stdin.FlushAsync();
        await supervisor.WaitForLineAsync("instance exited with 0", TimeSpan.FromSeconds(30));
        var atRestart = clients.Answered;
        await supervisor.WaitForOutputAsync(o => ListeningLine().Count(o) >= 2, Startup);
        await clients.WaitForAnsweredAsync(atRestart + 200, Startup);
        await clients.StopAsync();

        await supervisor.Stdin.WriteLineAsync("stop");
        await supervisor.Stdin.FlushAsync();
        await supervisor.WaitForOutputAsync(o => o.Split('\n').Count(l => l == "instance exited with 0") == 2, TimeSpan.FromSeconds(30));

        var log = supervisor.Stdout;
        var second = log[ListeningLine().Matches(log)[1].Index..];
        output.WriteLine($"held socket restart: {clients.Summary}; answered by the new instance: {ClientClosed().Count(second)}");
        Assert.True(clients.Resets == 0 && clients.Lost == 0 && clients.Refused == 0, $"{clients.Summary}\nthe first instance's stop:\n{StopLog(log)}");
        Assert.True(ClientClosed().Count(second) > 0, $"the new instance served nobody:\n{log}");
    }

    [Fact]
    public async Task Reuse_port_handover_resets_no_one()
    {
        await using var old = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--reuse-port", "-v");
        var port = (await old.WaitForTcpListeningAsync(Startup)).Port;
        await using var successor = ProcessHarness.StartShout("serve", "--listen", $"tcp://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--reuse-port", "-v");
        Assert.Equal(port, (await successor.WaitForTcpListeningAsync(Startup)).Port);

        var clients = ContinuousClients.Start(new IPEndPoint(IPAddress.Loopback, port), Concurrency);
        await clients.WaitForAnsweredAsync(300, Startup);
        await Eventually.TrueAsync(() => ClientClosed().Count(old.Stdout) > 0, TimeSpan.FromSeconds(30), () => "the old process got no connection");

        old.Signal(15);
        Assert.Equal(0, await old.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var atExit = clients.Answered;
        await clients.WaitForAnsweredAsync(atExit + 300, Startup);
        await clients.StopAsync();

        output.WriteLine($"reuse-port handover: {clients.Summary}; old answered {ClientClosed().Count(old.Stdout)}, successor {ClientClosed().Count(successor.Stdout)}; "
            + string.Join(" ", old.Stdout.Split('\n').Where(l => l.Contains("left the SO_REUSEPORT group", StringComparison.Ordinal))));
        Assert.Contains("left the SO_REUSEPORT group", old.Stdout, StringComparison.Ordinal);
        Assert.True(clients.Resets == 0 && clients.Lost == 0 && clients.Refused == 0, $"{clients.Summary}\nthe old process:\n{StopLog(old.Stdout)}");
    }

    /// <summary>The log around the first instance's drain, to tell what happened to a lost reply.</summary>
    private static string StopLog(string log)
    {
        var from = log.IndexOf("draining", StringComparison.Ordinal);
        return from < 0 ? log : log[Math.Max(0, from - 3000)..Math.Min(log.Length, from + 6000)];
    }

    [GeneratedRegex(@"Shout listening on tcp://")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"closed by client \(client_closed\)")]
    private static partial Regex ClientClosed();
}
