using System.Collections.Concurrent;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// The tutorial's own Go programs, built once per test run from <c>../shared/seed/go</c> with
/// <c>go build</c> into a temporary folder (the sources are read-only).
/// </summary>
internal static class GoPrograms
{
    private static readonly string OutputDir = Repo.TempDir();
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Built = new();

    public static Task<string> BuildAsync(string name) =>
        Built.GetOrAdd(name, n => new Lazy<Task<string>>(() => BuildNowAsync(n))).Value;

    private static async Task<string> BuildNowAsync(string name)
    {
        var go = Tools.Require("go");
        var output = Path.Combine(OutputDir, name);
        var env = new Dictionary<string, string>
        {
            ["GOFLAGS"] = "-mod=mod",
            ["GOCACHE"] = Path.Combine(OutputDir, ".cache"),
            ["GOPATH"] = Path.Combine(OutputDir, ".gopath"),
            ["GO111MODULE"] = "on",
        };
        var result = await CliRunner.RunAsync("bash", ["-c", $"cd '{Repo.SeedGo}' && '{go}' build -o '{output}' ./{name}"],
            timeout: TimeSpan.FromMinutes(3), environment: env);
        Assert.True(result.ExitCode == 0, $"go build ./{name} failed in {Repo.SeedGo}: {result.Stderr}");
        return output;
    }
}
