using System.Net.Security;
using Shout.IntegrationTests.Matrix;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 20 (row 3 on the message seam): 300 clients each send about 1 MiB and never read.
/// A real <c>shout serve</c> process, so its resident memory is the server's alone; measured before
/// the clients come, once every one of them has stalled (the server says all their replies wait
/// for their reader), and after they are gone. A WebSocket that never reads may cost no more than a
/// TCP one: the bound is row 3's, 1 MiB per client, while they stall; once they are gone, what they
/// held goes back to the system within seconds (the block pool's trim, then one collection).
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class Row20NonReaderMemoryTests(ITestOutputHelper output)
{
    private const int Clients = 300;

    /// <summary>Just under the default WebSocket message limit (1 MiB): one message the server must take.</summary>
    private const int Message = 1_000_000;

    private const long MaxGrowth = Clients * 1024L * 1024;

    /// <summary>
    /// What may stay once they are gone: measured 12–27 MiB on every transport (medians 15–24) (docs/reliability.md,
    /// row 20), against 51–156 MiB when the pool kept every block and nothing collected.
    /// </summary>
    private const long MaxAfter = 40 * MiB;

    /// <summary>
    /// How many must be seen waiting for their reader before memory is measured. Not all 300: the
    /// 300 clients' socket buffers (several MiB each, both ways) push the kernel past its TCP memory
    /// pressure mark (tcp_mem), where it prunes receive queues and drops segments; a client whose
    /// data was dropped then backs off (a 26 s retransmission timeout at the 7th backoff was seen),
    /// sends nothing for minutes, and its server connection, having read all it got, holds nothing
    /// and waits for input, not for its reader. Such a connection costs the server no memory, so the
    /// bound below still holds for all 300.
    /// </summary>
    private const int MustStall = Clients * 95 / 100;

    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Row20_clients_that_send_1_MiB_and_never_read_cost_a_bounded_amount_during_and_after(string name)
    {
        var transport = MatrixTransport.Named(name);
        // A WebSocket that reads nothing answers no ping: with the default --ws-ping (15 s) a slow machine
        // whose 300 clients take over 30 s to stall would see them aborted as dead peers (row 16), not held.
        string[] web = transport.IsWebSocket ? ["--ws-ping", "10m"] : ["--web", "http://127.0.0.1:0"];
        await using var server = await ServedProcess.StartAsync(transport, [.. web, "--write-timeout", "10m", "--idle-timeout", "10m"]);
        // The metrics of a wss server are served over its TLS, with the certificate its clients pin.
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = server.Pin },
        }) { Timeout = TimeSpan.FromSeconds(30) };

        await using (var warm = await server.OpenAsync(transport.Loopback))
        {
            await warm.SendAsync("warm up"u8.ToArray());
            Assert.Equal("WARM UP"u8.ToArray(), (await warm.ReceiveAsync(7)).Data);
        }

        var before = server.ResidentBytes();
        var clients = new MatrixClient[Clients];
        var accepted = new long[Clients];
        for (var i = 0; i < Clients; i++)
        {
            clients[i] = await server.OpenAsync(transport.Sources[i % transport.Sources.Count]);
            clients[i].RawSocket.ReceiveBufferSize = 4096;

            // Bounded send buffers (the default grows to 4 MiB each) keep 300 connections' kernel buffers
            // further from the TCP memory pressure mark described above (as in row 3).
            clients[i].RawSocket.SendBufferSize = 256 * 1024;
        }

        var payload = new byte[Message];
        Array.Fill(payload, (byte)'m');
        var senders = Enumerable.Range(0, Clients).Select(i => Task.Run(async () =>
        {
            try
            {
                while (accepted[i] < 8L * Message)
                {
                    await clients[i].SendAsync(payload);
                    accepted[i] += Message;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException
                or ObjectDisposedException or OperationCanceledException)
            {
                // Reset at the end of the test.
            }
        })).ToArray();

        var waiting = 0.0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline && (waiting = await server.MetricAsync(http, "connections_write_waiting")) < Clients)
        {
            await Task.Delay(500);
        }

        // Measured at the fullest stall seen: all of them, or (kernel pressure, above) nearly all after 120 s.
        var stalled = waiting >= MustStall;

        var during = server.ResidentBytes();
        foreach (var client in clients)
        {
            client.Reset();
        }

        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));
        var active = double.NaN;
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && (active = await server.MetricAsync(http, "connections_active")) > 0)
        {
            await Task.Delay(500);
        }

        // The pool gives back the blocks that stayed free a whole trim period (5 s), so within 10 s of the
        // last close, then one collection frees what the connections left on the heaps. The lowest seen
        // from then on counts; the deadline leaves room for a busy machine.
        var closed = DateTime.UtcNow;
        var after = server.ResidentBytes();
        var released = TimeSpan.Zero;
        deadline = closed + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && (after - before > MaxAfter || DateTime.UtcNow - closed < TimeSpan.FromSeconds(12)))
        {
            await Task.Delay(500);
            var now = server.ResidentBytes();
            if (now < after)
            {
                after = now;
                released = DateTime.UtcNow - closed;
            }
        }

        output.WriteLine($"{transport}: {Clients} clients sending {Message / 1000} kB messages, never reading; "
            + $"{waiting} reported waiting on their reader ({(stalled ? $"at least {MustStall} stalled" : $"fewer than {MustStall} stalled within 120 s")}); "
            + $"sent per client before the stall {accepted.Min() / MiB}–{accepted.Max() / MiB} MiB");
        output.WriteLine($"server RSS: before {before / MiB} MiB, during {during / MiB} MiB (+{(during - before) / MiB} MiB, "
            + $"{(during - before) / (double)Clients / MiB:F2} MiB per client), after {after / MiB} MiB (+{(after - before) / MiB} MiB, "
            + $"lowest {released.TotalSeconds:F0} s after the last close; {active} still open)");
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        Assert.True(stalled, $"only {waiting} of {Clients} connections were reported waiting for their reader (at least {MustStall} must be)");
        Assert.InRange(during - before, long.MinValue, MaxGrowth);
        // Every stalled connection is closed by its client's reset. One the kernel's TCP memory pressure
        // kept from stalling (above) may miss it: its receive window shrank below data already sent, so
        // the reset's sequence number falls outside it and is dropped (RFC 5961), and the connection,
        // waiting for input, stays for the idle timeout (seen once: 299 stalled, 1 still open).
        Assert.InRange(active, 0, Clients - waiting);
        // What they held goes back to the system within seconds of their close: what stays is the runtime's own.
        Assert.InRange(after - before, long.MinValue, MaxAfter);
    }
}
