using System.Net;
using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// Where `shout serve` is started does not change what it does or costs: the web host under it reads
/// no appsettings.json of its own from the working directory and watches no directory there (the
/// host's default would watch the whole tree below it, one inotify watch per directory).
/// </summary>
public sealed class WorkingDirectoryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Serve_in_a_deep_directory_watches_nothing_and_ignores_a_host_settings_file_there()
    {
        var dir = Repo.TempDir();
        for (var i = 0; i < 50; i++)
        {
            Directory.CreateDirectory(Path.Combine(dir, $"d{i}", "sub"));
        }

        // A port nobody listens on, named by a Kestrel section the host would bind if it read this file.
        int stray;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            stray = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"),
            $$"""{ "Kestrel": { "Endpoints": { "Stray": { "Url": "http://127.0.0.1:{{stray}}" } } } }""");

        await using var process = ProcessHarness.Start("dotnet",
            [Repo.CliDll, .. ShoutArgs.ForTests(["serve", "--listen", "tcp://127.0.0.1:0"])], workingDirectory: dir);
        var endpoint = await process.WaitForTcpListeningAsync(Timeout);
        var reply = await CliRunner.ShoutAsync(["send", "-a", endpoint.ToString(), "hi"], timeout: Timeout);
        Assert.Equal("HI\n", reply.StdoutText);

        Assert.Equal(0, InotifyWatches(process.Id));

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () =>
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, stray)).WaitAsync(Timeout));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>The inotify watches <paramref name="pid"/> holds, over all its inotify descriptors.</summary>
    private static int InotifyWatches(int pid)
    {
        var watches = 0;
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while listed
            }

            if (target == "anon_inode:inotify")
            {
                watches += File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}").Count(l => l.StartsWith("inotify", StringComparison.Ordinal));
            }
        }

        return watches;
    }
}
