using System.Diagnostics;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>The result of a finished command.</summary>
internal sealed record CommandResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);
}

/// <summary>Runs a command to completion with binary-safe stdin/stdout and a deadline.</summary>
internal static class CliRunner
{
    public static Task<CommandResult> ShoutAsync(string[] args, byte[]? stdin = null, TimeSpan? timeout = null,
        IDictionary<string, string>? environment = null) =>
        RunAsync("dotnet", [Repo.CliDll, .. ShoutArgs.ForTests(args)], stdin, timeout, environment);

    public static async Task<CommandResult> RunAsync(string fileName, IEnumerable<string> args, byte[]? stdin = null,
        TimeSpan? timeout = null, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var stdout = new MemoryStream();
        var readOut = process.StandardOutput.BaseStream.CopyToAsync(stdout, deadline.Token);
        var readErr = process.StandardError.ReadToEndAsync(deadline.Token);
        var write = Task.Run(async () =>
        {
            try
            {
                if (stdin is not null)
                {
                    await process.StandardInput.BaseStream.WriteAsync(stdin, deadline.Token);
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The command may exit before reading all of stdin; its exit code tells the story.
            }
        });
        try
        {
            await Task.WhenAll(readOut, readErr, write);
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"'{fileName} {string.Join(' ', info.ArgumentList)}' did not finish in time; stderr: {await SafeAsync(readErr)}");
        }

        return new CommandResult(process.ExitCode, stdout.ToArray(), await readErr);
    }

    private static async Task<string> SafeAsync(Task<string> task)
    {
        try
        {
            return await task;
        }
        catch (OperationCanceledException)
        {
            return "(cut off)";
        }
    }
}
