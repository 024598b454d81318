using System.Reflection;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// <c>dotnet pack</c> makes a .NET tool that installs from a local folder and runs. Offline: the
/// only package source is the folder, and a fresh package cache keeps an older 0.1.0 out.
/// </summary>
public sealed class PackagingTests
{
    [Fact]
    public async Task The_packed_tool_installs_and_prints_its_version()
    {
        var dir = Repo.TempDir();
        var feed = Directory.CreateDirectory(Path.Combine(dir, "feed")).FullName;
        var tools = Path.Combine(dir, "tools");
        var config = Path.Combine(dir, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="local" value="{feed}" /></packageSources></configuration>
            """);
        var environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(dir, "packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };

        // The CLI was built with this test project, in the same configuration: pack that build.
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var pack = await CliRunner.RunAsync("dotnet", ["pack", Path.Combine(Repo.Root, "src", "Shout.Cli"), "-c", configuration, "--no-build",
            "-o", feed, "--nologo"], timeout: TimeSpan.FromMinutes(2), environment: environment);
        Assert.True(pack.ExitCode == 0, pack.StdoutText + pack.Stderr);
        Assert.Single(Directory.GetFiles(feed, "shout.*.nupkg"));

        var install = await CliRunner.RunAsync("dotnet", ["tool", "install", "--tool-path", tools, "--configfile", config, "shout"],
            timeout: TimeSpan.FromMinutes(2), environment: environment);
        Assert.True(install.ExitCode == 0, install.StdoutText + install.Stderr);

        var version = await CliRunner.RunAsync(Path.Combine(tools, "shout"), ["--version"], environment: environment);
        Assert.Equal(0, version.ExitCode);
        var expected = typeof(global::Shout.Cli.Commands.ServeCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected, version.StdoutText.Trim());
    }
}
