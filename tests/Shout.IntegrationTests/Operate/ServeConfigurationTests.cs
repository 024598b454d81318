using System.CommandLine;
using Shout.Cli.Commands;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// Every serve setting from a flag, a SHOUT_ variable or the config file, with that precedence;
/// resolved in process through the same code the command runs, plus one real process.
/// </summary>
[Collection(ProcessEnvironmentGroup.Name)]
public sealed class ServeConfigurationTests
{
    private static (ServeRun Run, List<string> Errors) Resolve(string[] args, string? json = null, Dictionary<string, string>? environment = null)
    {
        var command = ServeCommand.Create();
        var dir = Repo.TempDir();
        string? file = null;
        if (json is not null)
        {
            file = Path.Combine(dir, "shout.json");
            File.WriteAllText(file, json);
        }

        var parse = command.Parse(file is null ? args : [.. args, "--config", file]);
        Assert.Empty(parse.Errors);
        foreach (var (key, value) in environment ?? [])
        {
            Environment.SetEnvironmentVariable(key, value);
        }

        try
        {
            var run = new ServeRun();
            var errors = ServeCommand.Resolve(parse, file is null ? null : new FileInfo(file), run);
            return (run, errors);
        }
        finally
        {
            foreach (var key in (environment ?? []).Keys)
            {
                Environment.SetEnvironmentVariable(key, null);
            }
        }
    }

    [Fact]
    public void Every_setting_has_a_flag_a_variable_and_a_key_of_the_same_name()
    {
        foreach (var setting in ServeSettings.All)
        {
            Assert.Equal(setting.Flag, setting.Option.Name);
            Assert.Equal("SHOUT_" + setting.Flag[2..].Replace('-', '_').ToUpperInvariant(), setting.EnvironmentVariable);
        }

        Assert.Contains(ServeSettings.All, s => s.Flag == "--max-line" && s.EnvironmentVariable == "SHOUT_MAX_LINE" && s.Key == "MaxLine");
    }

    [Fact]
    public void The_file_sets_every_kind_of_value()
    {
        var (run, errors) = Resolve([], """
            { "Shout": { "Listen": ["tcp://127.0.0.1:0", "unix:///tmp/x.sock"], "Mode": "line", "MaxLine": 80,
                         "ShutdownTimeout": "2s", "Verbose": true, "ProxyProtocol": true,
                         "TrustedProxy": ["10.0.0.0/8", "::1"], "ProxyTimeout": "4s", "ReusePort": true } }
            """);
        Assert.Empty(errors);
        var o = run.Options;
        Assert.Equal(["tcp://127.0.0.1:0", "unix:///tmp/x.sock"], o.Listen.Select(e => e.ToString()));
        Assert.Equal(ShoutMode.Line, o.Mode);
        Assert.Equal(80, o.MaxLineLength);
        Assert.Equal(TimeSpan.FromSeconds(2), o.ShutdownTimeout);
        Assert.True(run.Verbose && o.ProxyProtocol && o.ReusePort);
        Assert.Equal(["10.0.0.0/8", "::1/128"], o.TrustedProxies.Select(n => n.ToString()));
        Assert.Equal(TimeSpan.FromSeconds(4), o.ProxyHeaderTimeout);
    }

    [Fact]
    public void Flags_beat_the_environment_which_beats_the_file()
    {
        var json = """{ "Shout": { "Mode": "line", "MaxLine": 80, "ShutdownTimeout": "9s" } }""";
        var environment = new Dictionary<string, string> { ["SHOUT_MAX_LINE"] = "90", ["SHOUT_SHUTDOWN_TIMEOUT"] = "8s" };
        var (run, errors) = Resolve(["--shutdown-timeout", "7s"], json, environment);
        Assert.Empty(errors);
        Assert.Equal(ShoutMode.Line, run.Options.Mode);
        Assert.Equal(90, run.Options.MaxLineLength);
        Assert.Equal(TimeSpan.FromSeconds(7), run.Options.ShutdownTimeout);
    }

    [Fact]
    public void An_environment_list_is_comma_separated()
    {
        var (run, errors) = Resolve([], environment: new() { ["SHOUT_LISTEN"] = "tcp://127.0.0.1:1, tcp://[::1]:2", ["SHOUT_REUSE_PORT"] = "yes" });
        Assert.Empty(errors);
        Assert.Equal(["tcp://127.0.0.1:1", "tcp://[::1]:2"], run.Options.Listen.Select(e => e.ToString()));
        Assert.True(run.Options.ReusePort);
    }

    [Fact]
    public void Bad_values_and_unknown_keys_are_named()
    {
        var (_, errors) = Resolve([], """{ "Shout": { "Mood": "line", "MaxLine": "many" } }""",
            new() { ["SHOUT_TRUSTED_PROXY"] = "not-a-net" });
        Assert.Contains(errors, e => e.Contains("unknown setting Shout:Mood", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("config Shout:MaxLine: 'many' is not a whole number", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("SHOUT_TRUSTED_PROXY: 'not-a-net' is not a network", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_server_process_runs_from_a_config_file_and_refuses_a_bad_one()
    {
        var dir = Repo.TempDir();
        var file = Path.Combine(dir, "appsettings.json");
        await File.WriteAllTextAsync(file, """{ "Shout": { "Listen": "tcp://127.0.0.1:0", "Web": "none", "Mode": "line" } }""");
        await using (var server = ProcessHarness.Start("dotnet", [Repo.CliDll, "serve"], workingDirectory: dir))
        {
            var output = await server.WaitForLineAsync("Shout listening on tcp://127.0.0.1:", TimeSpan.FromSeconds(60));
            var port = int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"127\.0\.0\.1:(\d+)").Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture);
            var reply = await CliRunner.ShoutAsync(["send", "-a", $"127.0.0.1:{port}"], "a\nquit\n"u8.ToArray());
            Assert.Equal("A\nQUIT\n", reply.StdoutText);
        }

        await File.WriteAllTextAsync(file, """{ "Shout": { "Mode": "shouty" } }""");
        var refused = await CliRunner.ShoutAsync(["serve", "--config", file]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("config Shout:Mode: 'shouty' is not one of stream, line", refused.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>Tests that set process environment variables run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentGroup
{
    public const string Name = "process environment";
}
