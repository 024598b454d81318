using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.Text;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY rows 8 and 21: SIGTERM while clients stream, on every connection transport, TLS and
/// WSS included. A real <c>shout serve --verbose</c> (stream mode); 20 clients send as fast as they
/// can while reading; the server's Debug log gives each connection's bytes in and out, and each
/// client checks that it got exactly the uppercase of the first bytes-in bytes it sent: nothing the
/// server read is left unanswered, nothing it wrote is lost (close_notify or the close frame after
/// the last reply), and the process exits 0 within its shutdown timeout.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class Row21SigtermMatrixTests(ITestOutputHelper output)
{
    private const int Clients = 20;
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("tcp4")]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Row21_sigterm_under_load_answers_every_received_byte_and_loses_no_reply(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await ServedProcess.StartAsync(transport, "--shutdown-timeout", "20s");
        var clients = new List<DrainClient>();
        var slowestOpen = TimeSpan.Zero;
        for (var i = 0; i < Clients; i++)
        {
            // Each opens while the earlier ones stream (row 32): reported, so a starved connect shows in the log.
            var opening = System.Diagnostics.Stopwatch.StartNew();
            clients.Add(new DrainClient(await server.OpenAsync(transport.Loopback), i));
            slowestOpen = opening.Elapsed > slowestOpen ? opening.Elapsed : slowestOpen;
        }

        await Eventually.TrueAsync(() => clients.All(c => c.ReceivedCount > 4096), TimeSpan.FromSeconds(60), () => "clients not all answered yet");
        foreach (var client in clients)
        {
            client.Flood = true;
        }

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        server.Process.Signal(15);
        var code = await server.Process.WaitForExitAsync(ShutdownTimeout + TimeSpan.FromSeconds(15));
        var exited = stopwatch.Elapsed;
        await Task.WhenAll(clients.Select(c => c.Finished)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, code);

        var logged = server.Connections().Where(c => transport.EventNames.Contains(c.Transport)).ToList();
        Assert.Equal(Clients, logged.Count);
        long lost = 0, unanswered = 0;
        var problems = new List<string>();
        foreach (var client in clients)
        {
            // Unix peers have no port: a client is matched to the logged connection whose bytes out it got.
            var connection = client.LocalPort is { } port
                ? logged.Single(c => c.Remote.EndsWith($":{port}", StringComparison.Ordinal))
                : logged.FirstOrDefault(c => c.BytesOut == client.Received.Length && c.Reason is not null) ?? logged[0];
            logged.Remove(connection);
            var sent = client.Sent;
            var received = client.Received;
            lost += Math.Max(0, connection.BytesOut - received.Length);
            unanswered += Math.Max(0, connection.BytesIn - ShoutCaseLength(sent, connection.BytesIn, received));
            if (connection.Reason != "server_drain" || connection.BytesIn < 1 || connection.BytesIn > sent.Length
                || connection.BytesOut != received.Length
                || !received.AsSpan().SequenceEqual(ShoutCase.ToUpper(sent.AsSpan(0, (int)Math.Min(connection.BytesIn, sent.Length)).ToArray())))
            {
                problems.Add($"client {client.Index}: server says {connection.Reason}, {connection.BytesIn} in, {connection.BytesOut} out; "
                    + $"client sent {sent.Length}, received {received.Length}{(client.EndedByReset ? ", then a reset" : "")}");
            }
        }

        output.WriteLine($"{transport}: {Clients} clients, {clients.Sum(c => c.Sent.Length) / 1024} KiB sent in all; "
            + $"{clients.Count(c => c.EndedByReset)} saw a reset; {lost} bytes written by the server and lost; SIGTERM to exit {exited.TotalMilliseconds:F0} ms; "
            + $"slowest connect beside the streaming clients {slowestOpen.TotalMilliseconds:F0} ms");
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.InRange(exited, TimeSpan.Zero, ShutdownTimeout);
    }

    /// <summary>How many of the first <paramref name="bytesIn"/> bytes sent are answered by <paramref name="received"/> (for the summary only).</summary>
    private static long ShoutCaseLength(byte[] sent, long bytesIn, byte[] received) =>
        received.AsSpan().SequenceEqual(ShoutCase.ToUpper(sent.AsSpan(0, (int)Math.Min(bytesIn, sent.Length)).ToArray())) ? bytesIn : 0;
}
