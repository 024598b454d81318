namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// A command running in a real terminal (a detached tmux session): type keys, read the screen,
/// and read the command's exit code, which the session leaves in a file. Killed on dispose.
/// </summary>
internal sealed class TmuxSession : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _tmux;
    private readonly string _name;
    private readonly string _exitFile;

    private TmuxSession(string tmux, string name, string exitFile)
    {
        _tmux = tmux;
        _name = name;
        _exitFile = exitFile;
    }

    /// <summary>Starts <paramref name="command"/> (a shell command line) in a terminal of the given size.</summary>
    public static async Task<TmuxSession> StartAsync(string command, int width = 100, int height = 20)
    {
        var tmux = Tools.Require("tmux");
        var name = "shout-test-" + Guid.NewGuid().ToString("N")[..8];
        var exitFile = Path.Combine(Repo.TempDir(), "exit");
        // The pane stays after the command ends, so its last screen can still be read.
        var line = $"{command}; echo $? > '{exitFile}'; sleep 30";
        var result = await CliRunner.RunAsync(tmux, ["-L", name, "new-session", "-d", "-s", name, "-x", $"{width}", "-y", $"{height}", line]);
        Assert.True(result.ExitCode == 0, "tmux new-session failed: " + result.Stderr);
        return new TmuxSession(tmux, name, exitFile);
    }

    /// <summary>Types keys (tmux key names such as Enter or C-d are allowed).</summary>
    public async Task KeysAsync(params string[] keys)
    {
        var result = await CliRunner.RunAsync(_tmux, ["-L", _name, "send-keys", "-t", _name, .. keys]);
        Assert.Equal(0, result.ExitCode);
    }

    /// <summary>Types <paramref name="text"/> literally (no key names), as one write to the terminal.</summary>
    public async Task TypeAsync(string text)
    {
        var result = await CliRunner.RunAsync(_tmux, ["-L", _name, "send-keys", "-t", _name, "-l", text]);
        Assert.Equal(0, result.ExitCode);
    }

    /// <summary>
    /// Resizes the terminal (tmux re-wraps what is on screen, as most terminals do) and waits until
    /// the command's terminal device has the new size too. tmux re-wraps its screen at once but tells
    /// the device (and so the command, by SIGWINCH) later, up to 250 ms later when it resized recently:
    /// anything the command draws before that is laid out at the old width on a screen already
    /// re-wrapped, as on any terminal resized while a program draws.
    /// </summary>
    public async Task ResizeAsync(int width, int height)
    {
        await TmuxAsync("resize-window", "-t", _name, "-x", $"{width}", "-y", $"{height}");
        var device = (await TmuxAsync("display", "-p", "-t", _name, "#{pane_tty}")).Trim();
        var stty = Tools.Require("stty");
        var size = "";
        await Eventually.TrueAsync(async () =>
        {
            size = (await CliRunner.RunAsync(stty, ["-F", device, "size"])).StdoutText.Trim();
            return size == $"{height} {width}";
        }, Timeout, () => $"the terminal device {device} is {size} (rows columns), not {height} {width}");
    }

    /// <summary>
    /// Waits until the screen and the cursor (column, row) satisfy <paramref name="check"/>, which
    /// returns null when they do and else why not; the last reason is the failure message.
    /// </summary>
    public async Task<string> WaitForScreenAndCursorAsync(Func<string, int, int, string?> check)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var screen = (await CliRunner.RunAsync(_tmux, ["-L", _name, "capture-pane", "-p", "-t", _name])).StdoutText;
            var cursor = (await TmuxAsync("display", "-p", "-t", _name, "#{cursor_x} #{cursor_y}")).Trim().Split(' ');
            var why = check(screen, int.Parse(cursor[0], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(cursor[1], System.Globalization.CultureInfo.InvariantCulture));
            if (why is null)
            {
                return screen;
            }

            Assert.True(DateTime.UtcNow < deadline, why + "\nscreen:\n" + screen + $"\ncursor: {cursor[0]} {cursor[1]}");
            await Task.Delay(50);
        }
    }

    /// <summary>Runs a tmux command on this session's server (e.g. <c>display -p #{pane_title}</c>); returns its output.</summary>
    public async Task<string> TmuxAsync(params string[] args)
    {
        var result = await CliRunner.RunAsync(_tmux, ["-L", _name, .. args]);
        Assert.True(result.ExitCode == 0, $"tmux {string.Join(' ', args)} failed: {result.Stderr}");
        return result.StdoutText;
    }

    /// <summary>Waits until the screen satisfies <paramref name="condition"/>, and returns it.</summary>
    public async Task<string> WaitForScreenAsync(Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var screen = (await CliRunner.RunAsync(_tmux, ["-L", _name, "capture-pane", "-p", "-t", _name])).StdoutText;
            if (condition(screen))
            {
                return screen;
            }

            Assert.True(DateTime.UtcNow < deadline, "the terminal never showed what was expected:\n" + screen);
            await Task.Delay(50);
        }
    }

    /// <summary>Waits for the command to end and returns its exit code.</summary>
    public async Task<string> ExitCodeAsync()
    {
        await Eventually.TrueAsync(() => File.Exists(_exitFile) && File.ReadAllText(_exitFile).Trim().Length > 0, Timeout,
            () => "the command did not exit");
        return File.ReadAllText(_exitFile).Trim();
    }

    /// <summary>The last non-blank line of a screen, trimmed.</summary>
    public static string LastLine(string screen) =>
        screen.Split('\n').Select(l => l.TrimEnd()).LastOrDefault(l => l.Length > 0) ?? "";

    public async ValueTask DisposeAsync() => await CliRunner.RunAsync(_tmux, ["-L", _name, "kill-server"]);
}
