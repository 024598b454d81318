using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The Unix socket file: its mode, its removal on a clean stop, and the stale-file policy
/// (RELIABILITY row 17): refused probe ⇒ stale ⇒ removed; answered probe ⇒ "in use" error.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class UnixSocketFileTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_file_gets_mode_660_by_default_or_the_one_asked_for_and_is_removed_on_a_clean_stop()
    {
        var path = Path.Combine(Repo.TempDir(), "s.sock");
        await using (var server = await TestServer.StartAsync(listen: "unix://" + path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
                File.GetUnixFileMode(path));
        }

        Assert.False(File.Exists(path), "the socket file outlived a clean stop");

        await using (var server = await TestServer.StartAsync(o => o.UnixSocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            "unix://" + path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public async Task A_path_a_running_server_answers_on_is_refused_with_a_clear_error()
    {
        var path = Path.Combine(Repo.TempDir(), "s.sock");
        await using var first = await TestServer.StartAsync(listen: "unix://" + path);
        var error = await Assert.ThrowsAsync<IOException>(() => TestServer.StartAsync(listen: "unix://" + path));
        Assert.Contains("in use by a running server", error.Message, StringComparison.Ordinal);
        using var client = await RawClient.ConnectAsync(first.Endpoint);
    }

    [Fact]
    public async Task A_path_that_is_not_a_socket_is_never_replaced()
    {
        var path = Path.Combine(Repo.TempDir(), "notes.txt");
        await File.WriteAllTextAsync(path, "keep me");
        var error = await Assert.ThrowsAsync<IOException>(() => TestServer.StartAsync(listen: "unix://" + path));
        Assert.Contains("not a socket", error.Message, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_stale_file_left_by_a_killed_server_is_removed_and_the_next_server_starts()
    {
        var path = Path.Combine(Repo.TempDir(), "s.sock");
        await using (var crashed = ProcessHarness.StartShout("serve", "--listen", "unix://" + path, "--web", "none"))
        {
            await crashed.WaitForLineAsync("listening on unix://", Wait);
            crashed.Signal(9);
            Assert.Equal(137, await crashed.WaitForExitAsync(Wait));
        }

        Assert.True(File.Exists(path), "SIGKILL should have left the socket file behind");
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(new UnixDomainSocketEndPoint(path)));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        await using var next = ProcessHarness.StartShout("serve", "--listen", "unix://" + path, "--web", "none");
        await next.WaitForLineAsync("listening on unix://", Wait);
        Assert.Contains("removed the stale socket file", next.Stdout, StringComparison.Ordinal);
        var reply = await CliRunner.RunAsync(Tools.Require("socat"), ["-t", "10", "-", "UNIX-CONNECT:" + path], "stale no more"u8.ToArray());
        Assert.Equal("STALE NO MORE", reply.StdoutText);

        next.Signal(15);
        Assert.Equal(0, await next.WaitForExitAsync(Wait));
        Assert.False(File.Exists(path), "SIGTERM is a clean stop: the socket file must be gone");
    }
}
