using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>deploy/shout.socket and deploy/shout.service, as docs/operations.md shows them, are units systemd accepts.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UnitFileTests
{
    [Fact]
    public async Task The_unit_files_pass_systemd_analyze_verify_without_a_warning()
    {
        var analyze = Tools.Require("systemd-analyze");
        var dir = Repo.TempDir();

        // verify checks that ExecStart's program exists; the installed path is replaced by a stand-in.
        var program = Path.Combine(dir, "shout");
        await File.WriteAllTextAsync(program, "#!/bin/sh\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var service = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "deploy", "shout.service"));
        Assert.Contains("ExecStart=/usr/local/bin/shout serve", service, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(dir, "shout.service"), service.Replace("/usr/local/bin/shout", program, StringComparison.Ordinal));
        File.Copy(Path.Combine(Repo.Root, "deploy", "shout.socket"), Path.Combine(dir, "shout.socket"));

        await using var verify = ProcessHarness.Start(analyze, ["verify", "./shout.socket", "./shout.service"], workingDirectory: dir);
        Assert.Equal(0, await verify.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("", (verify.Stdout + verify.Stderr).Trim());
        Directory.Delete(dir, recursive: true);
    }
}
