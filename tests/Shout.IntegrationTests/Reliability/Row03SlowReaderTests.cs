using System.Diagnostics;
using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 3: clients that send and never read. The server must stop reading once its
/// replies back up (Kestrel's write-buffer limit, then its read-buffer limit), hold a bounded amount
/// per connection, and close each at the write timeout (fake clock).
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class Row03SlowReaderTests(ITestOutputHelper output)
{
    private const int Clients = 200;
    private const int Chunk = 16 * 1024;
    private const long Total = 64L * 1024 * 1024;

    /// <summary>Kestrel's default output limit: once this much of a reply is unsent, the handler's flush waits.</summary>
    private const long WriteBufferLimit = 64 * 1024;

    /// <summary>Most the process may grow with every client stalled: 1 MiB per client.</summary>
    private const long MaxGrowth = Clients * 1024L * 1024;

    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Row03_slow_reader_stalls_within_bounds_and_is_closed_at_the_write_timeout()
    {
        var clock = new WatchedClock();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.IdleTimeout = TimeSpan.Zero;
            o.WriteTimeout = WriteTimeout;
        }, clock: clock);
        var before = Memory();
        var started = Stopwatch.StartNew();

        var sockets = new Socket[Clients];
        var accepted = new long[Clients];
        for (var i = 0; i < Clients; i++)
        {
            sockets[i] = await RawClient.ConnectAsync(server.Endpoint);
            sockets[i].ReceiveBufferSize = 4096;

            // Bounded send buffers (the default grows to 4 MiB each): 200 connections' kernel buffers
            // otherwise near the kernel's TCP memory pressure mark (tcp_mem), where it drops segments and
            // a client backs off for minutes without the server ever seeing its bytes (row 20 says more).
            sockets[i].SendBufferSize = 256 * 1024;
        }

        var payload = new byte[Chunk];
        Array.Fill(payload, (byte)'s');
        var senders = Enumerable.Range(0, Clients).Select(i => Task.Run(() => SendUntilStoppedAsync(sockets[i], payload, accepted, i))).ToArray();

        // Every connection's reply now waits for a reader that never comes.
        await Eventually.TrueAsync(() => server.Metrics.WritesWaiting == Clients, TimeSpan.FromSeconds(60),
            () => $"{server.Metrics.WritesWaiting} of {Clients} connections waiting on their reader; accepted per client "
                + $"{accepted.Min() / 1024}–{accepted.Max() / 1024} KiB; senders ended: {senders.Count(t => t.IsCompleted)} ({string.Join("; ", senders.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!.Message).Distinct())})");
        var stalled = Memory();
        output.WriteLine($"{Clients} clients stalled after {started.Elapsed.TotalSeconds:F1} s");

        // One tick short of the write timeout nothing is closed; at the timeout the stalled ones are.
        clock.Advance(WriteTimeout - TimeSpan.FromTicks(1));
        Assert.Equal(0, server.Metrics.TimeoutsExpired);
        clock.Advance(TimeSpan.FromTicks(1));

        // A connection whose kernel buffers were still taking the last bytes finished that flush and
        // began a new wait, whose timeout counts from then. Each round waits until every fired timeout
        // has closed its connection and every open connection waits again, then moves the clock once more.
        var rounds = 1;
        while (true)
        {
            await Eventually.TrueAsync(() => Settled(server), TimeSpan.FromSeconds(60),
                () => $"{server.Metrics.TimeoutsExpired} timeouts fired, {server.Metrics.ClosedFor(CloseReason.WriteTimeout)} closed, {server.Metrics.WritesWaiting} of {server.Metrics.ActiveConnections} open waiting");
            if (server.Metrics.ActiveConnections == 0 || rounds == 20)
            {
                break;
            }

            clock.Advance(WriteTimeout);
            rounds++;
        }

        await server.WaitForNoConnectionsAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"closed in {rounds} write-timeout round(s)");
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        Assert.Equal(Clients, server.Metrics.ClosedFor(CloseReason.WriteTimeout));
        output.WriteLine($"accepted per client before the stall: min {accepted.Min() / 1024} KiB, max {accepted.Max() / 1024} KiB, of {Total / 1024 / 1024} MiB offered");
        output.WriteLine($"process memory: before {before}, with {Clients} stalled clients {stalled}");

        // Memory stays bounded: Kestrel's default 1 MiB read buffer per connection grew the working
        // set by ~540 MiB here; Shout's 64 KiB limit by ~40 MiB. The bound leaves room for noise.
        Assert.InRange(stalled.WorkingSet - before.WorkingSet, long.MinValue, MaxGrowth);

        // The server kept reading until its reply backed up (at least the write-buffer limit less a
        // chunk), but it did not swallow the whole stream: bounded, not buffered without end.
        Assert.All(accepted, a => Assert.InRange(a, WriteBufferLimit - Chunk, Total - 1));
    }

    /// <summary>Every fired timeout has closed its connection, and every open connection is waiting on its reader.</summary>
    private static bool Settled(TestServer server) =>
        server.Metrics.TimeoutsExpired == server.Metrics.ClosedFor(CloseReason.WriteTimeout)
        && server.Metrics.WritesWaiting == server.Metrics.ActiveConnections;

    private static async Task SendUntilStoppedAsync(Socket socket, byte[] payload, long[] accepted, int index)
    {
        try
        {
            while (accepted[index] < Total)
            {
                accepted[index] += await socket.SendAsync(payload);
            }
        }
        catch (SocketException)
        {
            // The write timeout aborted the connection: what was accepted before is the measure.
        }
    }

    private static Snapshot Memory()
    {
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        return new(self.WorkingSet64, GC.GetTotalMemory(false));
    }

    private readonly record struct Snapshot(long WorkingSet, long GcHeap)
    {
        public override string ToString() => $"working set {WorkingSet / 1024 / 1024} MiB, GC heap {GcHeap / 1024 / 1024} MiB";
    }
}
