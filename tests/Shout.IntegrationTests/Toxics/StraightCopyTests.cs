using System.Net.Sockets;
using Shout.Toxics;

namespace Shout.IntegrationTests.Toxics;

/// <summary>
/// The straight copy (no toxic on a direction) and the toxic path take turns on one connection: the
/// bytes arrive whole and in order however often a toxic comes and goes mid-stream.
/// </summary>
public sealed class StraightCopyTests
{
    [Fact]
    public async Task Bytes_keep_their_order_while_a_toxic_comes_and_goes_mid_stream()
    {
        const int total = 8 << 20;
        // Echo: what comes up goes back down, through both directions of the proxy.
        await using var upstream = new RawUpstream(RawUpstream.EchoAsync);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("p", upstream.Address);
        var toxics = proxy.Server.Proxies.Get("p").Toxics;
        using var socket = await ProxyFixture.ConnectAsync(port);
        var sent = new byte[total];
        for (var i = 0; i < total; i++)
        {
            sent[i] = (byte)(i * 7 + (i >> 16));
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var send = Task.Run(async () =>
        {
            for (var offset = 0; offset < total; offset += 40_000)
            {
                await socket.SendAsync(sent.AsMemory(offset, Math.Min(40_000, total - offset)), SocketFlags.None, cts.Token);
            }

            socket.Shutdown(SocketShutdown.Send);
        });
        var toggle = Task.Run(async () =>
        {
            // A toxic that acts (1 ms latency) on one direction, then the other, then none, over and over.
            var streams = new[] { ToxicStream.Upstream, ToxicStream.Downstream };
            for (var i = 0; !send.IsCompleted; i++)
            {
                var toxic = new ToxicSpec("lag", "latency", streams[i % 2], 1.0, ToxicSpec.WithDefaults("latency", new Dictionary<string, long> { ["latency"] = 1 }));
                toxics.TryAdd(toxic);
                await Task.Delay(3, cts.Token);
                toxics.TryRemove("lag");
                await Task.Delay(3, cts.Token);
            }
        });
        var received = await RawUpstream.ReadToEndAsync(socket, TimeSpan.FromSeconds(120));
        await send;
        await toggle;
        Assert.Equal(total, received.Length);
        Assert.True(sent.AsSpan().SequenceEqual(received), $"first difference at byte {sent.AsSpan().CommonPrefixLength(received)}");
    }

    [Fact]
    public async Task A_piece_read_after_a_toxic_went_waits_for_the_pieces_the_toxic_still_holds()
    {
        // Pieces every 10 ms; a 50 ms latency toxic on, then off, then on … every 100 ms. When it
        // goes, pieces read under it are still waiting out their latency: the pieces read next
        // must not overtake them (no straight copy while the toxic path holds anything).
        await using var upstream = new RawUpstream(RawUpstream.EchoAsync);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("p", upstream.Address);
        var toxics = proxy.Server.Proxies.Get("p").Toxics;
        var lag = new ToxicSpec("lag", "latency", ToxicStream.Upstream, 1.0, ToxicSpec.WithDefaults("latency", new Dictionary<string, long> { ["latency"] = 50 }));
        using var socket = await ProxyFixture.ConnectAsync(port);
        const int pieces = 80;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < pieces; i++)
        {
            var on = (watch.ElapsedMilliseconds / 100) % 2 == 0;
            if (on)
            {
                toxics.TryAdd(lag);
            }
            else
            {
                toxics.TryRemove("lag");
            }

            await socket.SendAsync(new[] { (byte)i }, SocketFlags.None);
            await Task.Delay(10);
        }

        socket.Shutdown(SocketShutdown.Send);
        var received = await RawUpstream.ReadToEndAsync(socket, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, pieces).Select(i => (byte)i), received);
    }
}
