using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary><c>shout chat</c> as a line editor in a real terminal (tmux): cursor, history, Ctrl+U/W, Ctrl+C.</summary>
public sealed class ChatEditingTests
{
    private static int Count(string screen, string text) =>
        screen.Split('\n').Count(l => l.TrimEnd() == text);

    [Fact]
    public async Task Arrows_history_and_deletion_edit_the_line_before_it_is_sent()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = Shout.Hosting.ShoutMode.Line);
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a {server.Endpoint}");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == ">");

        // Left arrow: insert before what was typed.
        await terminal.KeysAsync("world");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> world");
        await terminal.KeysAsync("Left", "Left", "Left", "Left", "Left", "hello ", "Enter");
        await terminal.WaitForScreenAsync(s => Count(s, "HELLO WORLD") == 1);

        // Up: the previous line again.
        await terminal.KeysAsync("Up");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> hello world");
        await terminal.KeysAsync("Enter");
        await terminal.WaitForScreenAsync(s => Count(s, "HELLO WORLD") == 2);

        // Ctrl+U drops the whole line; Ctrl+W the word before the cursor.
        await terminal.KeysAsync("garbage");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> garbage");
        await terminal.KeysAsync("C-u");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == ">");
        await terminal.KeysAsync("one two");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> one two");
        await terminal.KeysAsync("C-w");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> one");
        await terminal.KeysAsync("three", "Enter");
        var screen = await terminal.WaitForScreenAsync(s => Count(s, "ONE THREE") == 1);
        Assert.DoesNotContain("GARBAGE", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("TWO", screen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_c_leaves_the_terminal_clean_with_the_next_prompt_on_its_own_line()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = Shout.Hosting.ShoutMode.Line);

        // What runs after chat stands in for the shell's prompt.
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a {server.Endpoint}; c=$?; printf 'NEXT-PROMPT$ '; (exit $c)");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == ">");
        await terminal.KeysAsync("half typ");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> half typ");
        await terminal.KeysAsync("C-c");
        var screen = await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s).StartsWith("NEXT-PROMPT$", StringComparison.Ordinal));
        var lines = screen.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.Equal("> half typ^C", lines[^2]);
        Assert.Equal("NEXT-PROMPT$", lines[^1]);
        Assert.Equal("130", await terminal.ExitCodeAsync());
    }

    [Fact]
    public async Task When_the_server_closes_the_half_typed_prompt_is_not_drawn_again()
    {
        var server = await TestServer.StartAsync(o => o.Mode = Shout.Hosting.ShoutMode.Line);
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a {server.Endpoint}; printf 'NEXT-PROMPT$ '");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == ">");
        await terminal.KeysAsync("unsent");
        await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s) == "> unsent");
        await server.DisposeAsync();
        var screen = await terminal.WaitForScreenAsync(s => TmuxSession.LastLine(s).StartsWith("NEXT-PROMPT$", StringComparison.Ordinal));
        Assert.DoesNotContain("> unsent", screen, StringComparison.Ordinal);
        Assert.Contains("the server closed the connection", screen, StringComparison.Ordinal);
    }
}
