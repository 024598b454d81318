using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Row 31: a file option naming a device, a FIFO with no writer, a directory or a file past its cap
/// is refused at start in one line with exit 2, in bounded time (it used to read /dev/zero without
/// end and block on a FIFO for good); at a reload (SIGHUP) it fails with a reason, the server keeps
/// its settings, and the next reload works.
/// </summary>
public sealed class OptionFileTableTests : IDisposable
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);
    private readonly string _dir = Repo.TempDir();

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var option in (string[])["--config", "--access-file", "--tls-cert", "--tls-key"])
        {
            foreach (var kind in (string[])["device", "fifo", "directory", "oversized"])
            {
                cases.Add(option, kind);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_file_option_naming_what_is_not_a_small_regular_file_is_one_line_and_exit_2(string option, string kind)
    {
        using var held = new TcpListener(IPAddress.Loopback, 0);
        held.Start();
        var path = Make(kind);
        string[] args = ["serve", "-l", $"tls://127.0.0.1:{((IPEndPoint)held.LocalEndpoint).Port}", option, path];
        if (option == "--tls-key")
        {
            args = [.. args, "--tls-cert", WriteCertificateOnly()];
        }

        var clock = Stopwatch.StartNew();
        var result = await CliRunner.ShoutAsync(args, timeout: Bounded);
        Assert.True(clock.Elapsed < Bounded, $"took {clock.Elapsed}");
        Assert.DoesNotContain("   at ", result.Stderr + result.StdoutText, StringComparison.Ordinal);
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"shout: {option} {path}: ", line, StringComparison.Ordinal);
        Assert.Contains(kind switch
        {
            "device" => "a character device, not a regular file",
            "fifo" => "a FIFO (named pipe), not a regular file",
            "directory" => "a directory, not a regular file",
            _ => "larger than 1 MiB",
        }, line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.False(held.Pending());
    }

    [Fact]
    public async Task A_reload_from_a_FIFO_a_device_a_directory_or_an_oversized_file_fails_with_a_reason_and_the_next_reload_works()
    {
        var rules = Path.Combine(_dir, "access.txt");
        var config = Path.Combine(_dir, "shout.json");
        await File.WriteAllTextAsync(rules, "deny 127.0.0.2\n");
        await File.WriteAllTextAsync(config, """{ "Shout": { "MaxConnections": 100 } }""");
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--access-file", rules, "--config", config);
        var endpoint = await server.WaitForTcpListeningAsync(TimeSpan.FromSeconds(60));
        var (two, three) = (IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"));
        Assert.Null(await OneShotAsync(endpoint, two, "refused"));

        var reloads = 0;
        foreach (var (file, kind, reason) in new[]
        {
            (rules, "fifo", "a FIFO (named pipe), not a regular file"),
            (rules, "device", "a character device, not a regular file"),
            (rules, "directory", "a directory, not a regular file"),
            (rules, "oversized", "larger than 1 MiB"),
            (config, "fifo", "a FIFO (named pipe), not a regular file"),
        })
        {
            var keep = Path.Combine(_dir, "kept");
            File.Move(file, keep);
            Replace(file, kind);
            server.Signal(1);
            reloads++;
            var log = await server.WaitForOutputAsync(o => Count(o, "reload done") >= reloads, Step);
            var failed = log.Split('\n').Where(l => l.Contains($"reload: {(file == rules ? "--access-file" : "--config")} {file}: {reason}", StringComparison.Ordinal)).ToList();
            Assert.True(failed.Count == 1, $"{kind} {file}: expected one reload error saying '{reason}', log:\n{log}");
            Assert.Contains("nothing changed", failed[0], StringComparison.Ordinal);

            // The old rules hold.
            Assert.Null(await OneShotAsync(endpoint, two, "still refused"));
            Assert.Equal("WELCOME", await OneShotAsync(endpoint, three, "welcome"));
            Remove(file);
            File.Move(keep, file);
        }

        await File.WriteAllTextAsync(rules, "deny 127.0.0.3\n");
        server.Signal(1);
        reloads++;
        await server.WaitForOutputAsync(o => Count(o, "reload done") >= reloads, Step);
        await server.WaitForLineAsync("reload: access lists: 0 allow and 1 deny rules", Step);
        Assert.Equal("NOW WELCOME", await OneShotAsync(endpoint, two, "now welcome"));
        Assert.Null(await OneShotAsync(endpoint, three, "now refused"));
        Assert.DoesNotContain("   at ", server.Stdout + server.Stderr, StringComparison.Ordinal);
        Assert.False(server.HasExited);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int Count(string output, string text) => output.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    private string Make(string kind)
    {
        if (kind == "device")
        {
            return "/dev/zero";
        }

        var path = Path.Combine(_dir, $"{kind}-{Guid.NewGuid():N}");
        Replace(path, kind);
        return path;
    }

    /// <summary>Puts a <paramref name="kind"/> at <paramref name="path"/>; a device by a link to /dev/zero.</summary>
    private static void Replace(string path, string kind)
    {
        switch (kind)
        {
            case "device":
                File.CreateSymbolicLink(path, "/dev/zero");
                break;
            case "fifo":
                using (var mkfifo = Process.Start("mkfifo", [path]))
                {
                    mkfifo.WaitForExit();
                    Assert.Equal(0, mkfifo.ExitCode);
                }

                break;
            case "directory":
                Directory.CreateDirectory(path);
                break;
            default:
                // Valid text through and through: only its size is wrong.
                File.WriteAllText(path, string.Concat(Enumerable.Repeat("# a comment line of an access file\n", 2 * 1024 * 1024 / 35 + 1)));
                break;
        }
    }

    private static void Remove(string path)
    {
        if (Directory.Exists(path) && !File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint))
        {
            Directory.Delete(path);
        }
        else
        {
            File.Delete(path);
        }
    }

    private string WriteCertificateOnly()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var path = Path.Combine(_dir, "cert.pem");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    /// <summary>Connects from <paramref name="local"/>, sends, half-closes, reads to the end; null when refused.</summary>
    private static async Task<string?> OneShotAsync(ShoutEndpoint endpoint, IPAddress local, string text)
    {
        try
        {
            using var socket = await RawClient.ConnectFromAsync(endpoint, local);
            await socket.SendAsync(Encoding.ASCII.GetBytes(text));
            socket.Shutdown(SocketShutdown.Send);
            var reply = Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket, Step));
            return reply.Length == 0 ? null : reply;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return null;
        }
    }
}
