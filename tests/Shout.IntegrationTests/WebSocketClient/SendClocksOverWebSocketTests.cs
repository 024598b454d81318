using System.Diagnostics;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.WebSocketClient;

/// <summary>
/// <c>send -w</c> and <c>-q</c> over <c>ws://</c> as over TCP (<see cref="Cli.SendClocksTests"/>): the same
/// messages and exit codes against a WebSocket server that never sends its close, or never answers.
/// </summary>
public sealed class SendClocksOverWebSocketTests
{
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Quit_after_prints_the_answer_then_exits_0_although_the_ws_server_never_closes()
    {
        await using var open = new StayOpenWebSocketServer(StayOpenWebSocketServer.Mode.Answer);
        var started = Stopwatch.StartNew();
        var message = await CliRunner.ShoutAsync(["send", "-a", open.Address, "-q", "1s", "hi"], timeout: Command);
        Assert.True(message.ExitCode == 0, message.Stderr);
        Assert.Equal("HI\n", message.StdoutText);
        Assert.Equal("", message.Stderr);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");

        var piped = await CliRunner.ShoutAsync(["send", "-a", open.Address, "-q", "500ms"], "one\ntwo\n"u8.ToArray(), Command);
        Assert.True(piped.ExitCode == 0, piped.Stderr);
        Assert.Equal("ONE\nTWO\n", piped.StdoutText);
    }

    [Fact]
    public async Task Without_quit_after_send_keeps_waiting_for_the_ws_servers_close()
    {
        await using var open = new StayOpenWebSocketServer(StayOpenWebSocketServer.Mode.Answer);
        await using var send = ProcessHarness.StartShout("send", "-a", open.Address, "hello");
        await send.WaitForOutputAsync(o => o.Contains("HELLO", StringComparison.Ordinal), Command);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(send.HasExited, "send ended although the server never closed: -q would have nothing to do");
    }

    [Fact]
    public async Task Wait_gives_up_on_a_ws_server_that_upgrades_then_never_answers_with_the_tcp_message_and_exit_1()
    {
        await using var silent = new StayOpenWebSocketServer(StayOpenWebSocketServer.Mode.Silent);
        var started = Stopwatch.StartNew();
        var result = await CliRunner.ShoutAsync(["send", "-a", silent.Address, "-w", "1s", "hi"], timeout: Command);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"shout: nothing from {silent.Address} for 1.0 s; giving up (-w)\n", result.Stderr);
        Assert.Equal("", result.StdoutText);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");

        var piped = await CliRunner.ShoutAsync(["send", "-a", silent.Address, "-w", "500ms"], "data\n"u8.ToArray(), Command);
        Assert.Equal(1, piped.ExitCode);
        Assert.Equal($"shout: nothing from {silent.Address} for 500.0 ms; giving up (-w)\n", piped.Stderr);
    }

    [Fact]
    public async Task Wait_bounds_the_upgrade_of_a_ws_endpoint_that_accepts_tcp_but_never_answers_in_one_line_and_exit_1()
    {
        await using var silent = new RecordingServer(RecordingServer.Mode.Silent);
        var address = $"ws://127.0.0.1:{silent.Port}/ws";
        var result = await CliRunner.ShoutAsync(["send", "-a", address, "-w", "1s", "hi"], timeout: Command);
        Assert.Equal(1, result.ExitCode);

        // Without -w the upgrade may take the connect timeout plus the handshake's (15 s); -w 1s bounds each step to 1 s.
        Assert.Equal($"shout: the WebSocket handshake with {address} did not finish within 2 s\n", result.Stderr);
        Assert.Equal("", result.StdoutText);
        Assert.Contains("GET /ws HTTP/1.1", silent.Received, StringComparison.Ordinal);
    }
}
