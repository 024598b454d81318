using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.Text;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 8: SIGTERM while clients are sending. A real <c>shout serve</c> process, line
/// mode, 40 clients writing lines as fast as they can; the server's Debug log gives, per connection,
/// the bytes it read and wrote, and each client compares them with what it sent and got.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed partial class Row08SigtermUnderLoadTests(ITestOutputHelper output)
{
    private const int Clients = 40;
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Row08_sigterm_under_load_answers_every_received_byte_and_exits_0_within_the_timeout()
    {
        var dir = Repo.TempDir();
        var socketPath = Path.Combine(dir, "s.sock");
        await using var server = ProcessHarness.StartShout("serve", "--mode", "line", "--verbose",
            "-l", "tcp://127.0.0.1:0", "-l", $"unix://{socketPath}", "--shutdown-timeout", "20s");
        var endpoint = await server.WaitForTcpListeningAsync();

        var clients = new List<DrainClient>();
        for (var i = 0; i < Clients; i++)
        {
            var target = i % 4 == 3 ? ShoutEndpoint.ForUnix(socketPath) : endpoint;
            clients.Add(new DrainClient(await StreamMatrixClient.ConnectAsync(target, null, IPAddress.Loopback), i));
        }

        // Under load: every client has had answers, and keeps sending.
        await Eventually.TrueAsync(() => clients.All(c => c.ReceivedCount > 4096), TimeSpan.FromSeconds(60), () => "clients not all answered yet");
        foreach (var client in clients)
        {
            client.Flood = true;
        }

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        server.Signal(15);

        var code = await server.WaitForExitAsync(ShutdownTimeout + TimeSpan.FromSeconds(15));
        var exited = stopwatch.Elapsed;
        await Task.WhenAll(clients.Select(c => c.Finished)).WaitAsync(TimeSpan.FromSeconds(30));
        var drained = stopwatch.Elapsed;
        Assert.Equal(0, code);
        Assert.False(File.Exists(socketPath), "the Unix socket file is removed on shutdown");

        var log = server.Stdout;
        var accepted = AcceptedLine().Matches(log).ToDictionary(m => m.Groups["port"].Value, m => m.Groups["id"].Value);
        var closed = ClosedLine().Matches(log).ToDictionary(m => m.Groups["id"].Value, m => m);
        var resets = 0;
        foreach (var client in clients.Where(c => c.LocalPort is not null))
        {
            var close = closed[accepted[client.LocalPort!.Value.ToString(CultureInfo.InvariantCulture)]];
            var bytesIn = long.Parse(close.Groups["in"].Value, CultureInfo.InvariantCulture);
            var bytesOut = long.Parse(close.Groups["out"].Value, CultureInfo.InvariantCulture);
            var sent = client.Sent;
            var received = client.Received;
            resets += client.EndedByReset ? 1 : 0;

            Assert.Equal("server_drain", close.Groups["reason"].Value);
            Assert.InRange(bytesIn, 1, sent.Length);
            // Nothing the server wrote was lost, and what it wrote answers every byte it read, then QUIT.
            Assert.Equal(bytesOut, received.Length);
            Assert.Equal([.. ShoutCase.ToUpper(sent.AsSpan(0, (int)bytesIn)), .. "QUIT\n"u8], received);
        }

        output.WriteLine($"{Clients} clients ({clients.Count(c => c.LocalPort is null)} over Unix, checked by the QUIT line only); "
            + $"{clients.Sum(c => c.Sent.Length) / 1024} KiB sent in all; {resets} TCP clients saw a reset after the last reply; "
            + $"SIGTERM to exit {exited.TotalMilliseconds:F0} ms, to every client finished {drained.TotalMilliseconds:F0} ms");
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        foreach (var client in clients.Where(c => c.LocalPort is null))
        {
            Assert.EndsWith("QUIT\n", Encoding.ASCII.GetString(client.Received), StringComparison.Ordinal);
        }
    }


    [GeneratedRegex(@"\] (?<id>\S+) tcp accepted from 127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex AcceptedLine();

    [GeneratedRegex(@"\] (?<id>\S+) closed by \w+ \((?<reason>\w+)\): (?<in>\d+) bytes in, (?<out>\d+) bytes out")]
    private static partial Regex ClosedLine();
}
