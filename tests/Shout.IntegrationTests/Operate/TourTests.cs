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

        var addresses = new TourAddresses();
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

                        server = await StartServerAsync(block, environment, addresses);
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
                            var result = await CliRunner.RunAsync("bash", ["-c", Localise(command, addresses)], timeout: TimeSpan.FromSeconds(60),
                                environment: environment);
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

    /// <summary>
    /// Starts a <c>console server</c> command with every listen address moved to loopback port 0 (Unix
    /// paths to a temporary folder) and records where it listens, for <see cref="Localise"/>.
    /// </summary>
    private static async Task<ProcessHarness> StartServerAsync(TourBlock block, Dictionary<string, string> environment, TourAddresses addresses)
    {
        var (command, _) = Assert.Single(block.Commands());
        var serverEnvironment = new Dictionary<string, string>(environment);
        var dir = Repo.TempDir();
        var listens = ListenArgument().Count(command);
        command = IpEndpoint().Replace(command, m => $"{m.Groups["scheme"].Value}://127.0.0.1:0");
        command = UnixEndpoint().Replace(command, m =>
        {
            var moved = $"unix://{dir}/{Path.GetFileName(m.Groups["path"].Value)}";
            addresses.Unix[m.Value] = moved;
            return moved;
        });
        if (!command.Contains("--web", StringComparison.Ordinal))
        {
            // The page's fixed default port (8081) moved to a free one, like the transports.
            serverEnvironment["SHOUT_WEB"] = "http://127.0.0.1:0";
        }

        // The page's address is logged as one more listening line, after the transports'.
        var webLines = command.Contains("--web none", StringComparison.Ordinal) ? 0 : 1;

        if (listens == 0)
        {
            // The tutorial's default, tcp://0.0.0.0:8080, moved like the others.
            serverEnvironment["SHOUT_LISTEN"] = "tcp://127.0.0.1:0";
            listens = 1;
        }

        var server = ProcessHarness.Start("bash", ["-c", "exec " + command], environment: serverEnvironment);
        var output = await server.WaitForOutputAsync(o => ListeningLine().Count(o) >= listens + webLines, TimeSpan.FromSeconds(60));
        addresses.Bound.Clear();
        foreach (Match listening in ListeningLine().Matches(output))
        {
            addresses.Bound[listening.Groups["scheme"].Value] = listening.Groups["address"].Value.TrimEnd('/');
        }

        environment.Remove("SHOUT_ADDRESS");
        if (addresses.Bound.TryGetValue("tcp", out var tcp))
        {
            environment["SHOUT_ADDRESS"] = tcp;
        }

        return server;
    }

    /// <summary>Points a client command at the running server: scheme://HOST:PORT per transport, then 8080 to the TCP port.</summary>
    private static string Localise(string command, TourAddresses addresses)
    {
        command = ClientEndpoint().Replace(command, m =>
            addresses.Bound.TryGetValue(m.Groups["scheme"].Value, out var bound) ? $"{m.Groups["scheme"].Value}://{bound}" : m.Value);
        foreach (var (original, moved) in addresses.Unix)
        {
            command = command.Replace(original, moved, StringComparison.Ordinal);
        }

        return addresses.Bound.TryGetValue("tcp", out var tcp)
            ? TutorialPort().Replace(command, tcp[(tcp.LastIndexOf(':') + 1)..])
            : command;
    }

    private sealed class TourAddresses
    {
        /// <summary>Transport (tcp, udp, tls, …) to the HOST:PORT the current server bound.</summary>
        public Dictionary<string, string> Bound { get; } = [];

        /// <summary>unix:// addresses of the tour to their temporary paths.</summary>
        public Dictionary<string, string> Unix { get; } = [];
    }

    [GeneratedRegex(@"(?:--listen|-l)\s")]
    private static partial Regex ListenArgument();

    [GeneratedRegex(@"(?<scheme>tcp|udp|tls)://\S+")]
    private static partial Regex IpEndpoint();

    [GeneratedRegex(@"unix://(?<path>/[^\s'""]+)")]
    private static partial Regex UnixEndpoint();

    [GeneratedRegex(@"(?<scheme>tcp|udp|tls|http)://(?:localhost|127\.0\.0\.1|\[::1\]):\d+")]
    private static partial Regex ClientEndpoint();

    [GeneratedRegex(@"\b8080\b")]
    private static partial Regex TutorialPort();

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

    [GeneratedRegex(@"Shout listening on (?<scheme>[a-z]+)://(?<address>\S+)")]
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
