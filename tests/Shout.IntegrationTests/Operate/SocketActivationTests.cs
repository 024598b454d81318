using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// systemd integration, against Debian's own tools: sockets really passed by
/// <c>systemd-socket-activate</c>, and notifications received on a socket this test owns.
/// </summary>
public sealed partial class SocketActivationTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("epoll")]
    [InlineData("sockets")]
    public async Task Serve_adopts_passed_tcp_udp_unix_and_tls_sockets_and_listens_on_nothing_else(string transport)
    {
        var activate = Tools.Require("systemd-socket-activate");
        var dir = Repo.TempDir();
        var unixPath = Path.Combine(dir, "shout.sock");
        var (tcp, tls, udp) = (FreePorts.Tcp(), FreePorts.Tcp(), FreePorts.Udp());

        // One activator per socket type (-d makes all of its sockets datagrams); the inner one passes
        // the outer one's descriptor through, so shout receives 3 (udp), 4 (tcp), 5 (unix), 6 (tls).
        await using var chain = ProcessHarness.Start(activate,
        [
            "-d", "-l", $"127.0.0.1:{udp}", "--",
            activate, "-l", $"127.0.0.1:{tcp}", "-l", unixPath, "-l", $"127.0.0.1:{tls}", "--fdname=udp:tcp:unix:tls", "--",
            "dotnet", Repo.CliDll, "serve", "--web", "none", "-v", "--transport", transport,
        ]);
        await chain.WaitForLineAsync($"Listening on 127.0.0.1:{udp} as 3", Startup, stderr: true);

        // The activator starts its child at the first datagram; that datagram waits in the queue for shout.
        using var datagram = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await datagram.ConnectAsync(new IPEndPoint(IPAddress.Loopback, udp));
        await datagram.SendAsync("wake up"u8.ToArray());
        var output = await chain.WaitForOutputAsync(o => ListeningLine().Count(o) >= 4, Startup);

        string[] expected = [$"udp://127.0.0.1:{udp}", $"tcp://127.0.0.1:{tcp}", $"unix://{unixPath}", $"tls://127.0.0.1:{tls}"];
        Assert.Equal(expected, ListeningLine().Matches(output).Select(m => m.Groups[1].Value));

        var reply = new byte[64];
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            var read = await datagram.ReceiveAsync(reply, SocketFlags.None, wait.Token);
            Assert.Equal("WAKE UP", Encoding.ASCII.GetString(reply, 0, read));
        }

        Assert.Equal("OVER TCP", await ExchangeAsync(ShoutEndpoint.ForTcp("127.0.0.1", tcp), "over tcp"));
        Assert.Equal("OVER UNIX", await ExchangeAsync(ShoutEndpoint.ForUnix(unixPath), "over unix"));
        Assert.Equal("OVER TLS", await TlsExchangeAsync(tls, "over tls"));

        // The activators exec each other, so shout runs under the chain's process id.
        Assert.Equal(transport == "epoll", EpollThreads.Count(chain.Id) > 0);

        chain.Signal(15);
        Assert.Equal(0, await chain.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        // The socket file belongs to whoever created it; shout removes only the files it made.
        Assert.True(File.Exists(unixPath), "the passed socket's file must be left to its owner");
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_passed_socket_shout_cannot_serve_is_one_line_and_exit_1()
    {
        var activate = Tools.Require("systemd-socket-activate");
        var dir = Repo.TempDir();
        var path = Path.Combine(dir, "seq.sock");
        await using var process = ProcessHarness.Start(activate, ["--seqpacket", "-l", path, "--", "dotnet", Repo.CliDll, "serve", "--web", "none"]);
        await process.WaitForLineAsync($"Listening on {path} as 3", Startup, stderr: true);
        using var client = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));

        Assert.Equal(1, await process.WaitForExitAsync(Startup));
        var errors = process.Stderr.Split('\n').Where(l => l.StartsWith("shout:", StringComparison.Ordinal)).ToList();
        Assert.Equal(["shout: passed socket 3 is a Seqpacket Unix socket; shout serves listening TCP and Unix stream sockets and UDP sockets"], errors);
        Assert.DoesNotContain("   at ", process.Stderr, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Notify_socket_gets_ready_reloading_and_stopping_and_journald_lines_carry_no_timestamp()
    {
        var dir = Repo.TempDir();
        using var notify = new NotifyListener(Path.Combine(dir, "notify"));
        await using var server = ProcessHarness.Start("dotnet", [Repo.CliDll, "serve", "--listen", "tcp://127.0.0.1:0", "--web", "none"],
            environment: new Dictionary<string, string>
            {
                ["NOTIFY_SOCKET"] = notify.Path,
                ["JOURNAL_STREAM"] = "8:12345",
            });

        await notify.WaitForAsync("READY=1", Startup);

        // Ready means listening: the endpoint is logged and answers.
        var endpoint = await server.WaitForTcpListeningAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("READY NOW", await ExchangeAsync(endpoint, "ready now"));
        Assert.Matches(@"(?m)^<6>Shout\.Server\[\d+\] Shout listening on tcp://127\.0\.0\.1:\d+$", server.Stdout);
        Assert.DoesNotMatch(@"\d\d:\d\d:\d\d", server.Stdout);
        Assert.Equal(0, notify.Count("STOPPING=1"));

        server.Signal(1);
        await notify.WaitForAsync("RELOADING=1", TimeSpan.FromSeconds(15));
        await notify.WaitForAsync("READY=1", TimeSpan.FromSeconds(15), times: 2);
        Assert.Contains(notify.Messages, m => m.Split('\n').Any(l => l.StartsWith("MONOTONIC_USEC=", StringComparison.Ordinal)));
        Assert.False(server.HasExited, "SIGHUP reloads; it must not end the process");

        server.Signal(15);
        await notify.WaitForAsync("STOPPING=1", TimeSpan.FromSeconds(15));
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Directory.Delete(dir, recursive: true);
    }

    internal static async Task<string> ExchangeAsync(ShoutEndpoint endpoint, string text)
    {
        using var socket = await RawClient.ConnectAsync(endpoint);
        await socket.SendAsync(Encoding.UTF8.GetBytes(text));
        socket.Shutdown(SocketShutdown.Send);
        return Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket));
    }

    private static async Task<string> TlsExchangeAsync(int port, string text)
    {
        using var tcp = await RawClient.ConnectAsync(ShoutEndpoint.ForTcp("127.0.0.1", port));
        await using var tls = new SslStream(new NetworkStream(tcp, ownsSocket: false), leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate is not null);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, deadline.Token);
        await tls.WriteAsync(Encoding.UTF8.GetBytes(text), deadline.Token);
        var buffer = new byte[64];
        var read = await tls.ReadAtLeastAsync(buffer, text.Length, throwOnEndOfStream: false, deadline.Token);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    [GeneratedRegex(@"Shout listening on (\S+)")]
    private static partial Regex ListeningLine();
}
