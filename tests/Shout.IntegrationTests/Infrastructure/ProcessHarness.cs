using System.Diagnostics;
using System.Text;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// A child process with its output captured as it comes, so a test can wait (with a deadline) for
/// a line to appear, write to its stdin, signal it and collect its exit code. Killed on dispose.
/// </summary>
internal sealed partial class ProcessHarness : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _changed = new(0);

    private ProcessHarness(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    public StreamWriter Stdin => _process.StandardInput;

    /// <summary>Starts <c>dotnet shout.dll ARGS</c>.</summary>
    public static ProcessHarness StartShout(params string[] args) => Start("dotnet", [Repo.CliDll, .. ShoutArgs.ForTests(args)]);

    public static ProcessHarness Start(string fileName, IEnumerable<string> args, string? workingDirectory = null,
        IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var harness = new ProcessHarness(process);
        process.OutputDataReceived += (_, e) => harness.Append(harness._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => harness.Append(harness._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return harness;
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            target.Append(line).Append('\n');
        }

        _changed.Release();
    }

    /// <summary>Waits until stdout (or stderr) satisfies <paramref name="condition"/>.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> condition, TimeSpan timeout, bool stderr = false)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var text = stderr ? Stderr : Stdout;
            if (condition(text))
            {
                return text;
            }

            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                text = stderr ? Stderr : Stdout;
                return condition(text) ? text : throw new Xunit.Sdk.XunitException(
                    $"process exited ({_process.ExitCode}) before the expected output.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            try
            {
                await _changed.WaitAsync(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException(
                    $"expected output did not appear within {timeout.TotalSeconds:0.#} s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            }
        }
    }

    /// <summary>Waits for a <c>shout serve</c> process to log its loopback TCP endpoint, and returns it.</summary>
    public async Task<Shout.Endpoints.ShoutEndpoint> WaitForTcpListeningAsync(TimeSpan? timeout = null)
    {
        var output = await WaitForOutputAsync(o => TcpListeningLine().IsMatch(o), timeout ?? TimeSpan.FromSeconds(30));
        return Shout.Endpoints.ShoutEndpoint.ForTcp("127.0.0.1",
            int.Parse(TcpListeningLine().Match(output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"listening on tcp://127\.0\.0\.1:(\d+)")]
    private static partial System.Text.RegularExpressions.Regex TcpListeningLine();

    public Task<string> WaitForLineAsync(string text, TimeSpan timeout, bool stderr = false) =>
        WaitForOutputAsync(o => o.Contains(text, StringComparison.Ordinal), timeout, stderr);

    /// <summary>Sends a POSIX signal (e.g. 15 for SIGTERM) to the process.</summary>
    public void Signal(int signal)
    {
        if (Native.Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"process did not exit within {timeout.TotalSeconds:0.#} s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _changed.Dispose();
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
