using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Shout.Diagnostics;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// Several Shout processes behind one address: HAProxy with the PROXY protocol (deploy/haproxy.cfg,
/// the file docs/scaling.md documents), and SO_REUSEPORT on one machine.
/// </summary>
public sealed partial class ScaleOutTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Haproxy_spreads_clients_over_two_instances_and_each_sees_the_real_client()
    {
        var haproxy = Tools.Require("haproxy");
        await using var a = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--proxy-protocol", "--trusted-proxy", "127.0.0.1/32", "-v");
        await using var b = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--proxy-protocol", "--trusted-proxy", "127.0.0.1/32", "-v");
        var portA = await ListeningPortAsync(a);
        var portB = await ListeningPortAsync(b);

        var (balancer, lbPort) = await StartHaproxyAsync(haproxy, portA, portB);
        await using (balancer)
        {
            // Each client comes from its own loopback address, which only the PROXY header can tell the instances.
            var clients = new List<IPEndPoint>();
            for (var i = 0; i < 6; i++)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.0.{20 + i}"), 0));
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, lbPort), cts.Token);
                clients.Add((IPEndPoint)socket.LocalEndPoint!);
                await socket.SendAsync(Encoding.ASCII.GetBytes($"client {i}"));
                socket.Shutdown(SocketShutdown.Send);
                Assert.Equal($"CLIENT {i}", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
            }

            await Eventually.TrueAsync(() => Accepted(a).Count + Accepted(b).Count == clients.Count, TimeSpan.FromSeconds(15),
                () => $"instance a:\n{a.Stdout}\ninstance b:\n{b.Stdout}");
            var seenA = Accepted(a);
            var seenB = Accepted(b);
            Assert.True(seenA.Count >= 2 && seenB.Count >= 2, $"round robin should share 6 clients: a {seenA.Count}, b {seenB.Count}");
            Assert.Equal(clients.Select(c => c.ToString()).Order(), seenA.Concat(seenB).Order());
        }
    }

    [Fact]
    public async Task Two_processes_share_a_port_with_reuse_port()
    {
        await using var a = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--reuse-port", "-v");
        var port = await ListeningPortAsync(a);
        var shared = $"tcp://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        await using var b = ProcessHarness.StartShout("serve", "--listen", shared, "--reuse-port", "-v");
        Assert.Equal(port, await ListeningPortAsync(b));

        // Without the option the port is taken, as before.
        var refused = await CliRunner.ShoutAsync(["serve", "--listen", shared]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("cannot listen", refused.Stderr, StringComparison.Ordinal);

        // The kernel hashes each client's address and port to one of the sockets: 24 clients all on one
        // side would happen with probability 2^-23.
        for (var i = 0; i < 24; i++)
        {
            using var socket = await RawClient.ConnectAsync(ShoutEndpoint.Parse(shared));
            await socket.SendAsync("hi"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("HI", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
        }

        await Eventually.TrueAsync(() => Accepted(a).Count + Accepted(b).Count == 24, TimeSpan.FromSeconds(15),
            () => $"a:\n{a.Stdout}\nb:\n{b.Stdout}");
        Assert.True(Accepted(a).Count > 0 && Accepted(b).Count > 0, $"a served {Accepted(a).Count}, b {Accepted(b).Count}");
    }

    internal static async Task<int> ListeningPortAsync(ProcessHarness process) => (await process.WaitForTcpListeningAsync(Startup)).Port;

    private static List<string> Accepted(ProcessHarness process) =>
        [.. AcceptedLine().Matches(process.Stdout).Select(m => m.Groups[1].Value)];

    /// <summary>Starts HAProxy with deploy/haproxy.cfg on a free loopback port and waits until it accepts.</summary>
    internal static async Task<(ProcessHarness Process, int Port)> StartHaproxyAsync(string haproxy, int portA, int portB)
    {
        var config = Path.Combine(Repo.Root, "deploy", "haproxy.cfg");
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var process = ProcessHarness.Start(haproxy, ["-db", "-f", config], environment: new Dictionary<string, string>
            {
                ["SHOUT_LB_BIND"] = $"127.0.0.1:{port}",
                ["SHOUT_BACKEND_A"] = $"127.0.0.1:{portA}",
                ["SHOUT_BACKEND_B"] = $"127.0.0.1:{portB}",
            });
            // Ready when the kernel lists its listening socket; a probe connection would be forwarded to an instance.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline && !HasExited(process))
            {
                if (TcpStateTable.Read([port]).Any(e => e.State == TcpState.Listen && e.Local.Port == port))
                {
                    return (process, port);
                }

                await Task.Delay(50);
            }

            var output = process.Stdout + process.Stderr;
            await process.DisposeAsync();
            if (attempt >= 2)
            {
                Assert.Fail($"haproxy did not start:\n{output}");
            }
        }
    }

    private static bool HasExited(ProcessHarness process)
    {
        try
        {
            return System.Diagnostics.Process.GetProcessById(process.Id).HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>A port the system just handed out (HAProxy cannot report a port 0 binding back); retried if taken meanwhile.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }


    [GeneratedRegex(@"tcp accepted from (\S+)")]
    private static partial Regex AcceptedLine();
}
