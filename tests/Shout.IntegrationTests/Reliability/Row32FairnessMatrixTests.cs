using System.Diagnostics;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 32: while 20 clients stream at full speed, 20 new connections (a TCP connect, a
/// TLS handshake, a WebSocket upgrade; on UDP a new source) are each answered promptly. A real
/// <c>shout serve</c> process; the streaming clients keep it busy (each keeps 256 KiB unanswered,
/// UDP sources flood), then each newcomer connects, sends one line and times its answer. The
/// promise is one second; the figures are reported, and the assertion is a generous bound, since a
/// test on a shared machine may not encode speed. Every streaming client must still be streaming
/// after the newcomers: fairness holds for them too.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class Row32FairnessMatrixTests(ITestOutputHelper output)
{
    private const int Streaming = 20;
    private const int Newcomers = 20;

    /// <summary>The assertion's bound; the promise (and what is measured and reported) is 1 s.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>UDP: a newcomer's datagram the kernel dropped in the flood is sent again after this long.</summary>
    private static readonly TimeSpan DatagramRetry = TimeSpan.FromMilliseconds(200);

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    [InlineData("udp")]
    public async Task Row32_new_connections_are_answered_within_a_second_while_others_stream_at_full_speed(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await ServedProcess.StartAsync(transport, verbose: false, []);
        var streams = new List<StreamingClient>();
        try
        {
            for (var i = 0; i < Streaming; i++)
            {
                streams.Add(StreamingClient.Start(await server.OpenAsync(transport.Loopback), transport.IsDatagram));
            }

            await Eventually.TrueAsync(() => streams.All(s => s.Received > 64 * 1024), TimeSpan.FromSeconds(60),
                () => $"streaming clients not all answered yet: {string.Join(", ", streams.Select(s => s.Received))} bytes");

            var before = streams.Select(s => s.Received).ToArray();
            var phase = Stopwatch.StartNew();
            var times = new List<TimeSpan>();
            for (var j = 0; j < Newcomers; j++)
            {
                times.Add(await NewcomerAsync(server, transport, j));
            }

            var elapsed = phase.Elapsed;
            var moved = streams.Select((s, i) => s.Received - before[i]).ToArray();
            var sorted = times.Order().ToArray();
            output.WriteLine($"{transport}: {Newcomers} newcomers beside {Streaming} streaming clients answered in median "
                + $"{sorted[sorted.Length / 2].TotalMilliseconds:F0} ms, slowest {sorted[^1].TotalMilliseconds:F0} ms "
                + $"({sorted.Count(t => t > TimeSpan.FromSeconds(1))} over 1 s); the streaming clients got "
                + $"{moved.Sum() / (1024.0 * 1024):F1} MiB meanwhile ({moved.Sum() / (1024.0 * 1024) / elapsed.TotalSeconds:F1} MiB/s, "
                + $"least {moved.Min() / 1024} KiB); load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

            Assert.All(times, t => Assert.InRange(t, TimeSpan.Zero, Bound));

            // Fair to the streaming clients too: every one is still answered after the newcomers (the
            // newcomers may take only tens of milliseconds, too short a window to ask it of each).
            await Eventually.TrueAsync(() => streams.Select((s, i) => s.Received > before[i]).All(b => b), TimeSpan.FromSeconds(30),
                () => $"streaming clients not answered since the newcomers came: {string.Join(", ", streams.Select((s, i) => s.Received - before[i]))} bytes");
            Assert.All(streams, s => Assert.Null(s.Failure));
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }

    /// <summary>Connects, sends one line and waits for its answer; returns how long that took from the connect.</summary>
    private static async Task<TimeSpan> NewcomerAsync(ServedProcess server, MatrixTransport transport, int index)
    {
        var line = Encoding.ASCII.GetBytes($"newcomer {index}\n");
        var expected = Encoding.ASCII.GetBytes($"NEWCOMER {index}\n");
        var clock = Stopwatch.StartNew();
        await using var client = await server.OpenAsync(transport.Loopback);
        if (client is DatagramMatrixClient datagrams)
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await datagrams.SendAsync(line);
                if (await datagrams.ReceiveDatagramAsync(DatagramRetry) is { } reply)
                {
                    Assert.Equal(expected, reply);
                    return clock.Elapsed;
                }
            }

            throw new Xunit.Sdk.XunitException($"newcomer {index} got no answer within 30 s");
        }

        await client.SendAsync(line);
        var ending = await client.ReceiveAsync(expected.Length, TimeSpan.FromSeconds(30));
        var elapsed = clock.Elapsed;
        Assert.True(expected.AsSpan().SequenceEqual(ending.Data), $"newcomer {index}: {ending}");
        await client.CloseAsync();
        return elapsed;
    }
}
