using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 7: 10,000 concurrent connections. The server is a separate <c>shout serve</c>
/// process and this test process is the load generator, so each side holds 10,000 sockets under
/// its own 20,000 file limit; the server's open descriptors (/proc/PID/fd) prove nothing leaks.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class Row07TenThousandConnectionsTests(ITestOutputHelper output)
{
    private const int Connections = 10_000;
    private const int ConnectsInFlight = 200;

    [Fact]
    public async Task Row07_ten_thousand_concurrent_connections_all_answered_and_counts_return_to_zero()
    {
        // The default --max-connections (10,000) must admit exactly this many.
        await using var server = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0");
        var endpoint = await server.WaitForTcpListeningAsync();
        var baseline = OpenFiles(server.Id);
        var rssBefore = ResidentKiB(server.Id);
        var clock = Stopwatch.StartNew();

        var sockets = new Socket[Connections];
        using var gate = new SemaphoreSlim(ConnectsInFlight);
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                sockets[i] = await RawClient.ConnectAsync(endpoint, TimeSpan.FromSeconds(60));
                var message = $"hello from {i}";
                await sockets[i].SendAsync(Encoding.ASCII.GetBytes(message));
                Assert.Equal(message.ToUpperInvariant(), Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(sockets[i], message.Length, TimeSpan.FromSeconds(60))));
            }
            finally
            {
                gate.Release();
            }
        })).WaitAsync(TimeSpan.FromSeconds(90));
        var connected = clock.Elapsed;

        // All 10,000 open at once on the server.
        Assert.InRange(OpenFiles(server.Id) - baseline, Connections, Connections + 50);
        var rssOpen = ResidentKiB(server.Id);

        // Each one half-closes and gets a clean EOF; then the server holds no connection.
        await Task.WhenAll(sockets.Select(async s =>
        {
            s.Shutdown(SocketShutdown.Send);
            Assert.Empty(await RawClient.ReadToEndAsync(s, TimeSpan.FromSeconds(60)));
            s.Dispose();
        })).WaitAsync(TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(() => OpenFiles(server.Id) <= baseline, TimeSpan.FromSeconds(60),
            () => $"{OpenFiles(server.Id) - baseline} descriptors above the baseline");

        output.WriteLine($"{Connections} connections opened and answered in {connected.TotalSeconds:F1} s, all closed by {clock.Elapsed.TotalSeconds:F1} s; "
            + $"server RSS {rssBefore / 1024} MiB idle, {rssOpen / 1024} MiB with {Connections} open ({(rssOpen - rssBefore) * 1024.0 / Connections / 1024:F1} KiB per connection)");
        server.Signal(15);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private static int OpenFiles(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    private static long ResidentKiB(int pid)
    {
        var line = File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

}
