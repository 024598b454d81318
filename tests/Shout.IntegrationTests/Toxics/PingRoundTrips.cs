using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Shout.IntegrationTests.Toxics;

/// <summary>Timed round trips of "ping" through an uppercasing server (behind a proxy or not): what a latency toxic is measured with.</summary>
internal static class PingRoundTrips
{
    /// <summary>One round trip, in ms; fails if the reply is not "PING" or the connection closes.</summary>
    public static async Task<double> OnceMsAsync(Socket socket, TimeSpan timeout)
    {
        var buffer = new byte[64];
        var watch = Stopwatch.StartNew();
        await socket.SendAsync("ping"u8.ToArray(), SocketFlags.None);
        var got = 0;
        using var cts = new CancellationTokenSource(timeout);
        while (got < 4)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, cts.Token);
            Assert.True(n > 0, "the connection closed during a round trip");
            got += n;
        }

        Assert.Equal("PING", Encoding.ASCII.GetString(buffer, 0, 4));
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>The median of <paramref name="count"/> single round trips: one stall of a loaded machine does not move it.</summary>
    public static async Task<double> MedianMsAsync(Socket socket, int count, TimeSpan timeout)
    {
        var times = new List<double>();
        for (var i = 0; i < count; i++)
        {
            times.Add(await OnceMsAsync(socket, timeout));
        }

        return Median(times);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
