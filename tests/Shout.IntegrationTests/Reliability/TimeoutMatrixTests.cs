using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.IntegrationTests.Web;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY rows 4 (idle) and 3/20 (write timeout, a client that never reads) on every transport,
/// from the same <see cref="ShoutServerOptions.IdleTimeout"/> and <see cref="ShoutServerOptions.WriteTimeout"/>,
/// on a fake clock: one tick before the timeout the connection is served, at it it is closed.
/// </summary>
public sealed class TimeoutMatrixTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Write = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    public static TheoryData<string> Connected => ["tcp4", "tcp6", "unix", "tls", "ws", "wss"];

    [Theory]
    [MemberData(nameof(Connected))]
    public async Task Row04_idle_connection_is_served_one_tick_before_the_idle_timeout_and_closed_at_it(string name)
    {
        var transport = MatrixTransport.Named(name);
        var clock = new WatchedClock();
        await using var server = await transport.StartAsync(o =>
        {
            o.IdleTimeout = Idle;

            // Pings are not activity, and must not be the reason anything closes here.
            o.Web.KeepAliveInterval = TimeSpan.Zero;
        }, clock: clock);
        await using var client = await Probe.ServedAsync(transport, server, null, "first");

        clock.Advance(Idle - Tick);
        await client.SendAsync("still here"u8.ToArray());
        var reply = await client.ReceiveAsync(10);
        Assert.True(reply.Kind == EndKind.Open && reply.Data.AsSpan().SequenceEqual("STILL HERE"u8), $"closed before the idle timeout: {reply}");

        // The message moved the deadline: idle again for the timeout less one tick, nothing fires
        // (a fake clock runs due timers inside Advance)…
        clock.Advance(Idle - Tick);
        Assert.Equal(0, server.Metrics.TimeoutsExpired);
        Assert.Equal(0, server.Metrics.ClosedFor(CloseReason.IdleTimeout));

        // …and one tick more closes it gracefully (FIN, close_notify or a close frame), with the reason.
        clock.Advance(Tick);
        var ending = await client.ReadToEndAsync();
        Assert.True(ending.Kind == EndKind.Closed && ending.Data.Length == 0, $"not closed at the idle timeout: {ending}");
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.IdleTimeout));
        Assert.Contains(server.Server.Services.GetEvents(), e => e.Kind == ConnectionEventKind.Closed && e.Reason == CloseReason.IdleTimeout
            && transport.EventNames.Contains(e.Transport));
    }

    [Fact]
    public async Task Row04_a_UDP_peer_session_closes_after_the_idle_timeout_with_its_bytes()
    {
        var transport = MatrixTransport.Udp;
        var clock = new WatchedClock();
        await using var server = await transport.StartAsync(o => o.IdleTimeout = Idle, clock: clock);
        await using var client = await Probe.ServedAsync(transport, server, null, "hello");
        var port = $":{client.LocalPort}";
        await Eventually.TrueAsync(() => UdpEvents(server, port, ConnectionEventKind.Opened).Any(), TimeSpan.FromSeconds(15),
            () => $"no opened udp event for the peer {port}; events: {Describe(server)}");

        clock.Advance(Idle - Tick);
        Assert.Empty(UdpEvents(server, port, ConnectionEventKind.Closed));

        // A session sweep may run up to a second late; the close must come then.
        clock.Advance(Tick + TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => UdpEvents(server, port, ConnectionEventKind.Closed).Any(), TimeSpan.FromSeconds(15),
            () => $"no closed udp event for the peer {port}; events: {Describe(server)}");
        var closed = UdpEvents(server, port, ConnectionEventKind.Closed).Single();
        Assert.Equal(CloseReason.IdleTimeout, closed.Reason);
        Assert.Equal(5, closed.BytesIn);
        Assert.Equal(5, closed.BytesOut);
    }

    [Theory]
    [MemberData(nameof(Connected))]
    public async Task Row03_a_client_that_never_reads_stalls_the_server_and_is_closed_at_the_write_timeout(string name)
    {
        var transport = MatrixTransport.Named(name);
        var clock = new WatchedClock();
        await using var server = await transport.StartAsync(o =>
        {
            o.IdleTimeout = TimeSpan.Zero;
            o.WriteTimeout = Write;
            o.Web.KeepAliveInterval = TimeSpan.Zero;
        }, clock: clock);
        await using var client = await transport.OpenAsync(server);
        client.RawSocket.ReceiveBufferSize = 4096;
        long accepted = 0;
        var chunk = new byte[16 * 1024];
        Array.Fill(chunk, (byte)'s');
        var sender = Task.Run(async () =>
        {
            try
            {
                while (accepted < 256L * 1024 * 1024)
                {
                    await client.SendAsync(chunk);
                    Interlocked.Add(ref accepted, chunk.Length);
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException
                or ObjectDisposedException or OperationCanceledException)
            {
                // The write timeout aborted the connection.
            }
        });

        await Eventually.TrueAsync(() => server.Metrics.WritesWaiting == 1, TimeSpan.FromSeconds(60),
            () => $"the server does not report the reply waiting for its reader; {Interlocked.Read(ref accepted) / 1024} KiB accepted, sender ended: {sender.IsCompleted}");

        clock.Advance(Write - Tick);
        Assert.Equal(0, server.Metrics.TimeoutsExpired);
        clock.Advance(Tick);

        // A flush still draining into kernel buffers may finish and start a new wait, whose timeout
        // counts from then: each round waits until the connection is closed or waiting again.
        for (var round = 0; round < 20 && server.Metrics.ActiveConnections > 0; round++)
        {
            await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 0 || server.Metrics.WritesWaiting == 1
                && server.Metrics.TimeoutsExpired == server.Metrics.ClosedFor(CloseReason.WriteTimeout), TimeSpan.FromSeconds(60),
                () => $"{server.Metrics.TimeoutsExpired} timeouts fired, {server.Metrics.ActiveConnections} open, {server.Metrics.WritesWaiting} waiting");
            if (server.Metrics.ActiveConnections > 0)
            {
                clock.Advance(Write);
            }
        }

        await server.WaitForNoConnectionsAsync(TimeSpan.FromSeconds(60));
        await sender.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.WriteTimeout));
        Assert.Contains(server.Server.Services.GetEvents(), e => e.Kind == ConnectionEventKind.Closed && e.Reason == CloseReason.WriteTimeout
            && transport.EventNames.Contains(e.Transport));

        output.WriteLine($"{transport}: {Interlocked.Read(ref accepted) / 1024} KiB sent by a client that never reads before the write timeout closed it");

        // Bounded: the server stopped taking input once its replies backed up.
        Assert.InRange(Interlocked.Read(ref accepted), 1, 256L * 1024 * 1024 - 1);
    }

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    public async Task Row05_a_trickled_line_is_closed_at_the_line_timeout_though_each_byte_keeps_the_idle_timeout_away(string name)
    {
        var line = TimeSpan.FromSeconds(30);
        var step = TimeSpan.FromSeconds(5);
        var transport = MatrixTransport.Named(name);
        var clock = new WatchedClock();
        await using var server = await transport.StartAsync(o =>
        {
            o.Mode = ShoutMode.Line;
            o.IdleTimeout = TimeSpan.FromSeconds(10);
            o.LineTimeout = line;
        }, clock: clock);
        await using var client = await transport.OpenAsync(server);
        // The session reads the clock as it opens: only once it is counted does a read of the clock mean a byte was handled.
        await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 1, TimeSpan.FromSeconds(15), () => "the server did not open the session");
        for (var elapsed = TimeSpan.Zero; elapsed < line; elapsed += step)
        {
            // Timers of a fake clock fire inside Advance: none has fired before the line's 30 s are up.
            Assert.Equal(0, server.Metrics.TimeoutsExpired);
            var before = clock.Reads;
            await client.SendAsync("z"u8.ToArray());
            await clock.WaitForServerAsync(before);
            clock.Advance(step);
        }

        var ending = await client.ReadToEndAsync();
        Assert.Equal("ERR line timeout\n", System.Text.Encoding.ASCII.GetString(ending.Data));
        Assert.Equal(EndKind.Closed, ending.Kind);
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.LineTimeout));
        Assert.Equal(0, server.Metrics.ClosedFor(CloseReason.IdleTimeout));
    }

    private static IEnumerable<ConnectionEvent> UdpEvents(TestServer server, string port, ConnectionEventKind kind) =>
        server.Server.Services.GetEvents().Where(e => e.Kind == kind && e.Transport == "udp" && e.Remote.EndsWith(port, StringComparison.Ordinal));

    private static string Describe(TestServer server) =>
        string.Join("; ", server.Server.Services.GetEvents().Select(e => $"{e.Kind} {e.Transport} {e.Remote} {e.Reason}"));
}
