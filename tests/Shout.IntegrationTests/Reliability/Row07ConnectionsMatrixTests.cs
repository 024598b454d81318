using System.Diagnostics;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 7 on the transports other than tcp4 (which <see cref="Row07TenThousandConnectionsTests"/>
/// covers with raw sockets): thousands of connections open at once, each answered, each closed
/// cleanly, the server's descriptors back to their baseline, and the server still serving. The
/// server is a <c>shout serve</c> process, this test process the load generator (each under its own
/// file limit). The counts below 10,000 are what fits about 30 s on the shared 2-core machine
/// (measured in docs/reliability.md).
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class Row07ConnectionsMatrixTests(ITestOutputHelper output)
{
    private const int ConnectsInFlight = 200;

    /// <summary>
    /// Server RSS growth per open connection that fails the row (issue 20: an idle tls, ws or wss
    /// connection holds no buffer). Measured by this test 2026-12-05 on the busy 2-core machine: tls 30.6,
    /// ws 19.3, wss 48.6 KiB (before: 44, 26, 77). Each bound is that plus about 10 KiB for the GC's and
    /// malloc's timing, and still fails when a buffer is held again (the WebSocket's 16 KiB chunk,
    /// OpenSSL's ~34 KiB of record buffers).
    /// </summary>
    private static readonly Dictionary<string, double> MaxKiBPerConnection = new()
    {
        ["tls"] = 40,
        ["ws"] = 30,
        ["wss"] = 58,
    };

    [Theory]
    [InlineData("tcp6", 10_000)]
    [InlineData("unix", 10_000)]
    [InlineData("tls", 5_000)]
    [InlineData("ws", 5_000)]
    [InlineData("wss", 2_000)]
    public async Task Row07_thousands_of_concurrent_connections_all_answered_and_counts_return_to_zero(string name, int connections)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await ServedProcess.StartAsync(transport, verbose: false, []);
        var pid = server.Process.Id;

        var listeners = Sockets(pid);

        // One exchange first: what the runtime opens once, lazily (TLS, the HTTP stack), is not a leak.
        await using (var warm = await server.OpenAsync(transport.Loopback))
        {
            await warm.SendAsync("warm up"u8.ToArray());
            Assert.Equal("WARM UP"u8.ToArray(), (await warm.ReceiveAsync(7)).Data);
            await warm.CloseAsync();
            Assert.Equal(EndKind.Closed, (await warm.ReadToEndAsync()).Kind);
        }

        await Eventually.TrueAsync(() => Sockets(pid) <= listeners,
            TimeSpan.FromSeconds(30), () => "the warm-up connection is still open: " + string.Join(", ", Descriptors(pid)));
        var before = Descriptors(pid);
        var baseline = before.Count;
        var socketBaseline = Sockets(pid);
        var rssBefore = server.ResidentBytes();
        var clock = Stopwatch.StartNew();

        var clients = new MatrixClient?[connections];
        // A WebSocket client answers the server's pings only while a receive is pending (as a real client
        // that reads does): without one, the first clients of a slow run are aborted as dead peers (row 16)
        // before the last one has connected.
        var listening = new Task<byte[]?>?[connections];
        using var gate = new SemaphoreSlim(ConnectsInFlight);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var client = clients[i] = await server.OpenAsync(transport.Loopback);
                var message = Encoding.ASCII.GetBytes($"hello from {i}");
                await client.SendAsync(message);
                var reply = await client.ReceiveAsync(message.Length, TimeSpan.FromSeconds(60));
                Assert.True(reply.Kind == EndKind.Open && reply.Data.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes($"HELLO FROM {i}")),
                    $"client {i}: {reply}");
                if (transport.IsWebSocket)
                {
                    listening[i] = client.ReceiveSomeAsync(CancellationToken.None);
                }
            }
            finally
            {
                gate.Release();
            }
        })).WaitAsync(TimeSpan.FromSeconds(120));
        var connected = clock.Elapsed;

        // All open at once on the server (each WebSocket and TLS connection is one socket too). Sockets
        // only: the runtime may close a file or eventfd of its own meanwhile.
        var open = Sockets(pid) - socketBaseline;
        Assert.InRange(open, connections, connections + 50);
        var rssOpen = server.ResidentBytes();

        // Each one ends gracefully (FIN, close_notify, close frame) and sees the server end in kind, nothing more.
        await Task.WhenAll(clients.Select(async (c, i) =>
        {
            Assert.NotNull(c);
            await c.CloseAsync();
            if (listening[i] is { } pending)
            {
                // The pending receive ends at the server's close frame, with nothing before it.
                Assert.Null(await pending.WaitAsync(TimeSpan.FromSeconds(60)));
            }
            else
            {
                var end = await c.ReadToEndAsync(TimeSpan.FromSeconds(60));
                Assert.True(end.Kind == EndKind.Closed && end.Data.Length == 0, $"client {i} at its close: {end}");
            }
            await c.DisposeAsync();
        })).WaitAsync(TimeSpan.FromSeconds(120));
        await Eventually.TrueAsync(() => OpenFiles(pid) <= baseline, TimeSpan.FromSeconds(60),
            () => $"{OpenFiles(pid) - baseline} descriptors above the baseline: "
                + string.Join(", ", Descriptors(pid).GroupBy(d => d.Split(':')[0]).Select(g => $"{g.Count()} {g.Key}")) + $" (before: {string.Join(", ", before)})");
        var closed = clock.Elapsed;

        // The server keeps serving.
        await using (var after = await server.OpenAsync(transport.Loopback))
        {
            await after.SendAsync("still serving"u8.ToArray());
            Assert.Equal("STILL SERVING"u8.ToArray(), (await after.ReceiveAsync(13)).Data);
        }

        output.WriteLine($"{transport}: {connections} connections opened and answered in {connected.TotalSeconds:F1} s, all closed by {closed.TotalSeconds:F1} s; "
            + $"server RSS {rssBefore >> 20} MiB idle, {rssOpen >> 20} MiB with {connections} open "
            + $"({(rssOpen - rssBefore) / 1024.0 / connections:F1} KiB per connection)");
        if (MaxKiBPerConnection.TryGetValue(name, out var most))
        {
            var perConnection = (rssOpen - rssBefore) / 1024.0 / connections;
            Assert.True(perConnection <= most, $"{transport}: {perConnection:F1} KiB of server RSS per open connection, more than {most}");
        }

        server.Process.Signal(15);
        Assert.Equal(0, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private static int OpenFiles(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    /// <summary>What each descriptor is (<c>socket:[inode]</c>, <c>anon_inode:[eventpoll]</c>, a path).</summary>
    private static List<string> Descriptors(int pid) =>
        [.. Directory.GetFiles($"/proc/{pid}/fd").Select(f => { try { return new FileInfo(f).LinkTarget ?? "?"; } catch (IOException) { return "gone"; } })];

    private static int Sockets(int pid) => Descriptors(pid).Count(d => d.StartsWith("socket:", StringComparison.Ordinal));
}
