using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// Runs docs/tour.md: every <c>console server</c> block starts its server on a free port, every
/// <c>$</c> line of a <c>console</c> block runs in bash and must print the lines below it, and every
/// <c>console log</c> block must appear in the current server's log. So the tour cannot rot.
/// </summary>
public sealed partial class TourTests
{
    [Fact]
    public async Task Every_command_of_the_tour_does_what_the_tour_says()
    {
        var blocks = TourBlock.Parse(await File.ReadAllTextAsync(Path.Combine(Repo.Root, "docs", "tour.md")));
        Assert.True(blocks.Count(b => b.Kind == "console") >= 5, "the tour lost its commands");

        var bin = Repo.TempDir();
        var wrapper = Path.Combine(bin, "shout");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec dotnet '{Repo.CliDll}' \"$@\"\n");
        Assert.Equal(0, (await CliRunner.RunAsync("chmod", ["+x", wrapper])).ExitCode);
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };

        ProcessHarness? server = null;
        try
        {
            foreach (var block in blocks)
            {
                switch (block.Kind)
                {
                    case "console server":
                        if (server is not null)
                        {
                            await server.DisposeAsync();
                        }

                        server = await StartServerAsync(block, environment);
                        break;
                    case "console log":
                        Assert.NotNull(server);
                        foreach (var line in block.Lines.Where(l => l.Length > 0))
                        {
                            await server.WaitForLineAsync(line, TimeSpan.FromSeconds(15));
                        }

                        break;
                    case "console":
                        foreach (var (command, expected) in block.Commands())
                        {
                            var result = await CliRunner.RunAsync("bash", ["-c", command], timeout: TimeSpan.FromSeconds(60), environment: environment);
                            var actual = result.StdoutText.TrimEnd('\n').Split('\n');
                            Assert.True(result.ExitCode == 0 && Matches(expected, actual),
                                $"docs/tour.md line {block.Line}: $ {command}\nexpected:\n{string.Join('\n', expected)}\n"
                                + $"got (exit {result.ExitCode}):\n{result.StdoutText}\nstderr:\n{result.Stderr}");
                        }

                        break;
                    default:
                        break;
                }
            }
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(new[] { "A", "B" }, new[] { "A", "B" }, true)]
    [InlineData(new[] { "A", "B" }, new[] { "A", "C" }, false)]
    [InlineData(new[] { "A", "…" }, new[] { "A", "B", "C" }, true)]
    [InlineData(new[] { "port …:1" }, new[] { "port 80:1" }, true)]
    [InlineData(new[] { "port …:1" }, new[] { "port 80:2" }, false)]
    [InlineData(new[] { "…", "X" }, new[] { "A", "X" }, true)]
    [InlineData(new[] { "A" }, new[] { "A", "B" }, false)]
    public void The_tour_matcher_reads_ellipses_as_anything(string[] expected, string[] actual, bool matches) =>
        Assert.Equal(matches, Matches(expected, actual));

    private static async Task<ProcessHarness> StartServerAsync(TourBlock block, Dictionary<string, string> environment)
    {
        var (command, _) = Assert.Single(block.Commands());

        // The tour's servers use the tutorial's port 8080; the test gives them a free one instead.
        var serverEnvironment = new Dictionary<string, string>(environment) { ["SHOUT_LISTEN"] = "tcp://127.0.0.1:0" };
        var server = ProcessHarness.Start("bash", ["-c", "exec " + command], environment: serverEnvironment);
        var output = await server.WaitForOutputAsync(o => ListeningLine().IsMatch(o), TimeSpan.FromSeconds(60));
        var port = ListeningLine().Match(output).Groups[1].Value;
        environment["SHOUT_ADDRESS"] = "127.0.0.1:" + port;
        environment["SHOUT_PORT"] = port;
        return server;
    }

    /// <summary>Line by line; <c>…</c> inside a line matches any text, a line of only <c>…</c> any number of lines.</summary>
    private static bool Matches(string[] expected, string[] actual)
    {
        bool From(int e, int a)
        {
            if (e == expected.Length)
            {
                return a == actual.Length;
            }

            if (expected[e] == "…")
            {
                for (var skip = a; skip <= actual.Length; skip++)
                {
                    if (From(e + 1, skip))
                    {
                        return true;
                    }
                }

                return false;
            }

            return a < actual.Length && LineMatches(expected[e], actual[a]) && From(e + 1, a + 1);
        }

        return From(0, 0);
    }

    private static bool LineMatches(string expected, string actual) =>
        Regex.IsMatch(actual, "^" + string.Join(".*", expected.Split('…').Select(Regex.Escape)) + "$");

    [GeneratedRegex(@"Shout listening on tcp://127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();

    private sealed record TourBlock(string Kind, int Line, IReadOnlyList<string> Lines)
    {
        public static List<TourBlock> Parse(string markdown)
        {
            var blocks = new List<TourBlock>();
            var lines = markdown.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].StartsWith("```console", StringComparison.Ordinal))
                {
                    continue;
                }

                var start = i;
                var body = new List<string>();
                while (++i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal))
                {
                    body.Add(lines[i]);
                }

                blocks.Add(new TourBlock(lines[start][3..].Trim(), start + 1, body));
            }

            return blocks;
        }

        /// <summary>Each <c>$ command</c> with the output lines written under it.</summary>
        public IEnumerable<(string Command, string[] Expected)> Commands()
        {
            string? command = null;
            var expected = new List<string>();
            foreach (var line in Lines)
            {
                if (line.StartsWith("$ ", StringComparison.Ordinal))
                {
                    if (command is not null)
                    {
                        yield return (command, [.. expected]);
                    }

                    command = line[2..];
                    expected.Clear();
                }
                else
                {
                    expected.Add(line);
                }
            }

            if (command is not null)
            {
                yield return (command, [.. expected]);
            }
        }
    }
}
