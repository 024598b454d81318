using System.Diagnostics;
using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// <c>send</c> against servers that do not close: replies printed as they arrive, <c>-w</c> gives up
/// (exit 1, one line), <c>-q</c> quits after the input ended (exit 0); a Shout refusal exits 1.
/// </summary>
public sealed class SendClocksTests
{
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Wait_gives_up_on_a_server_that_never_answers_with_one_line_and_exit_1()
    {
        await using var silent = new RecordingServer(RecordingServer.Mode.Silent);
        var started = Stopwatch.StartNew();
        var result = await CliRunner.ShoutAsync(["send", "-a", $"127.0.0.1:{silent.Port}", "-w", "1s", "hi"], timeout: Command);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"shout: nothing from tcp://127.0.0.1:{silent.Port} for 1.0 s; giving up (-w)\n", result.Stderr);
        Assert.Equal("", result.StdoutText);
        Assert.Equal("hi", silent.Received);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Wait_on_stdin_gives_up_too_when_nothing_moves()
    {
        await using var silent = new RecordingServer(RecordingServer.Mode.Silent);
        var result = await CliRunner.ShoutAsync(["send", "-a", $"127.0.0.1:{silent.Port}", "-w", "500ms"], "data\n"u8.ToArray(), Command);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"shout: nothing from tcp://127.0.0.1:{silent.Port} for 500.0 ms; giving up (-w)\n", result.Stderr);
    }

    [Fact]
    public async Task Quit_after_prints_the_answer_then_exits_0_although_the_server_stays_open()
    {
        await using var open = new RecordingServer(RecordingServer.Mode.AnswerAndStayOpen);
        var message = await CliRunner.ShoutAsync(["send", "-a", $"127.0.0.1:{open.Port}", "-q", "1", "hi"], timeout: Command);
        Assert.Equal(0, message.ExitCode);
        Assert.Equal("HI\n", message.StdoutText);
        Assert.Equal("", message.Stderr);

        var piped = await CliRunner.ShoutAsync(["send", "-a", $"127.0.0.1:{open.Port}", "-q", "500ms"], "one\ntwo\n"u8.ToArray(), Command);
        Assert.Equal(0, piped.ExitCode);
        Assert.Equal("ONE\nTWO\n", piped.StdoutText);
    }

    [Fact]
    public async Task Replies_are_printed_as_they_arrive_not_at_the_end()
    {
        await using var open = new RecordingServer(RecordingServer.Mode.AnswerAndStayOpen);
        // The harness reads stdout by lines: the message carries its newline (a partial line is shown after a pause too, untested here).
        await using var send = ProcessHarness.StartShout("send", "-a", $"127.0.0.1:{open.Port}", "hello\n");
        await send.WaitForOutputAsync(o => o.Contains("HELLO", StringComparison.Ordinal), Command);
        Assert.False(send.HasExited, "send ended although the server kept the connection open");
        await open.DisposeAsync();
        Assert.Equal(0, await send.WaitForExitAsync(Command));
    }

    [Fact]
    public async Task A_Shout_busy_refusal_exits_1_and_says_so_but_an_answer_that_only_looks_alike_is_data()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxConnections = 1);
        using var holder = new TcpClient();
        await holder.ConnectAsync(server.Endpoint.Host, server.Endpoint.Port);
        await holder.GetStream().WriteAsync("x"u8.ToArray());
        var buffer = new byte[1];
        Assert.Equal(1, await holder.GetStream().ReadAsync(buffer));

        var busy = await CliRunner.ShoutAsync(["send", "-a", server.Endpoint.ToString(), "hi"], timeout: Command);
        Assert.Equal(1, busy.ExitCode);
        Assert.Equal("ERR server busy (max 1 connections)\n", busy.StdoutText);
        Assert.Equal($"shout: {server.Endpoint} refused the connection: ERR server busy (max 1 connections)\n", busy.Stderr);

        holder.Dispose();
        await server.WaitForNoConnectionsAsync();
        var alike = await CliRunner.ShoutAsync(["send", "-a", server.Endpoint.ToString(), "err server busy (max 1 connections)"], timeout: Command);
        Assert.Equal(0, alike.ExitCode);
        Assert.Equal("ERR SERVER BUSY (MAX 1 CONNECTIONS)\n", alike.StdoutText);
    }
}
