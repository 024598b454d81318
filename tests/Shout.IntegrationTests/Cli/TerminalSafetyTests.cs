using System.Net;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Row 29 at the terminal: whatever a server sends (not only Shout's), <c>shout chat</c> and
/// <c>shout send</c> never let it act on the user's terminal: in a real terminal (tmux) the screen
/// shows every control escaped, earlier lines stay, the title and the clipboard are untouched.
/// Into a pipe the same bytes pass raw, as <c>nc</c> passes them.
/// </summary>
public sealed class TerminalSafetyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>What a hostile server sends, line by line, and how each line must look on the screen.</summary>
    private static readonly (byte[] Sent, string Shown)[] Hostile =
    [
        ("\u001b[2J\u001b[HCLEAR\n"u8.ToArray(), "\\x1B[2J\\x1B[HCLEAR"),
        ("REAL LINE\rBOB: I AM BOB\n"u8.ToArray(), "REAL LINE\\x0DBOB: I AM BOB"),
        ("\u001b]0;PWNED\u0007TITLE\n"u8.ToArray(), "\\x1B]0;PWNED\\x07TITLE"),
        ("\u001b]52;c;ZXZpbA==\u0007CLIP\n"u8.ToArray(), "\\x1B]52;c;ZXZpbA==\\x07CLIP"),
        ("\u009b2JC1\n"u8.ToArray(), "\\u009B2JC1"),
        ([0x9B, .. "2JRAW\n"u8], "\\x9B2JRAW"),
        ("\u202eRTL BEL\u0007 DEL\u007f\n"u8.ToArray(), "\\u202ERTL BEL\\x07 DEL\\x7F"),
        ("TAB\tKEPT CRLF\r\n"u8.ToArray(), "TAB     KEPT CRLF"),
    ];

    private static byte[] HostileBytes => [.. "EARLIER LINE\n"u8, .. Hostile.SelectMany(h => h.Sent), .. "LAST LINE\n"u8];

    [Fact]
    public async Task Row29_chat_in_a_terminal_shows_a_server_s_controls_escaped_and_nothing_is_cleared()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a 127.0.0.1:{port}", width: 160, height: 30);
        await ArmAsync(terminal);
        using var accept = new CancellationTokenSource(Timeout);
        using var server = await listener.AcceptSocketAsync(accept.Token);
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == ">");

        await server.SendAsync(HostileBytes);

        var screen = await terminal.WaitForScreenAsync(s => s.Contains("LAST LINE", StringComparison.Ordinal));
        await AssertUntouchedAsync(terminal, screen);
        Assert.Equal(">", TmuxSession.LastLine(screen));
    }

    [Fact]
    public async Task Row29_send_in_a_terminal_shows_a_server_s_controls_escaped()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' send -a 127.0.0.1:{port} hi", width: 160, height: 30);
        await ArmAsync(terminal);
        await AnswerOnceAsync(listener, HostileBytes);

        Assert.Equal("0", await terminal.ExitCodeAsync());
        var screen = await terminal.WaitForScreenAsync(s => s.Contains("LAST LINE", StringComparison.Ordinal));
        await AssertUntouchedAsync(terminal, screen);
    }

    [Fact]
    public async Task Row29_the_probe_works_a_raw_write_of_the_same_bytes_does_clear_set_the_title_and_the_clipboard()
    {
        // Without this, the two tests above could pass on a terminal that ignores these sequences.
        var file = Path.Combine(Repo.TempDir(), "hostile");
        await File.WriteAllBytesAsync(file, HostileBytes);
        await using var terminal = await TmuxSession.StartAsync("read go; cat '" + file + "'", width: 160, height: 30);
        await ArmAsync(terminal);
        await terminal.KeysAsync("Enter");

        var screen = await terminal.WaitForScreenAsync(s => s.Contains("LAST LINE", StringComparison.Ordinal));
        Assert.DoesNotContain("EARLIER LINE", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("REAL LINE", screen, StringComparison.Ordinal);
        Assert.Equal("PWNED", (await terminal.TmuxAsync("display", "-p", "#{pane_title}")).Trim());
        Assert.Equal("evil", await terminal.TmuxAsync("show-buffer"));
    }

    [Fact]
    public async Task Row29_piped_chat_and_send_pass_the_bytes_as_they_came()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var address = $"127.0.0.1:{port}";

        var send = CliRunner.ShoutAsync(["send", "-a", address, "hi"], timeout: Timeout);
        await AnswerOnceAsync(listener, HostileBytes);
        var sent = await send;
        Assert.Equal(0, sent.ExitCode);
        Assert.Equal(HostileBytes, sent.Stdout);

        var chat = CliRunner.ShoutAsync(["chat", "-a", address], stdin: [], timeout: Timeout);
        await AnswerOnceAsync(listener, HostileBytes);
        var chatted = await chat;
        Assert.Equal(0, chatted.ExitCode);

        // chat prints lines: each as it came, its CRLF made LF.
        Assert.Equal([.. HostileBytes.Take(HostileBytes.Length - "TAB\tKEPT CRLF\r\nLAST LINE\n".Length), .. "TAB\tKEPT CRLF\nLAST LINE\n"u8],
            chatted.Stdout);
    }

    /// <summary>Lets the terminal take OSC 52 into a tmux buffer, so a clipboard write would be seen.</summary>
    private static async Task ArmAsync(TmuxSession terminal) => await terminal.TmuxAsync("set", "-s", "set-clipboard", "on");

    private static async Task AssertUntouchedAsync(TmuxSession terminal, string screen)
    {
        Assert.Contains("EARLIER LINE", screen, StringComparison.Ordinal);
        foreach (var (_, shown) in Hostile)
        {
            Assert.Contains(shown, screen, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("PWNED", (await terminal.TmuxAsync("display", "-p", "#{pane_title}")), StringComparison.Ordinal);
        Assert.Equal("", await terminal.TmuxAsync("list-buffers"));
    }

    /// <summary>Accepts one client, reads until it half-closes (so closing resets nothing), answers, closes.</summary>
    private static async Task AnswerOnceAsync(TcpListener listener, byte[] answer)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var client = await listener.AcceptSocketAsync(timeout.Token);
        var buffer = new byte[1024];
        while (await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
        {
        }

        await client.SendAsync(answer, SocketFlags.None, timeout.Token);
        client.Shutdown(SocketShutdown.Both);
    }
}
