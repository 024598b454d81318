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
        for (var i = 0; i < Clients; i++)
        {
            clients.Add(new DrainClient(await server.OpenAsync(transport.Loopback), i));
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
            + $"{clients.Count(c => c.EndedByReset)} saw a reset; {lost} bytes written by the server and lost; SIGTERM to exit {exited.TotalMilliseconds:F0} ms");
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

    /// <summary>Sends text chunks (one message each on WebSocket) until the server ends, reading every reply meanwhile.</summary>
    private sealed class DrainClient : IAsyncDisposable
    {
        /// <summary>Most unanswered bytes in flight before the flood: steady load, not a flood that starves connects.</summary>
        private const int Window = 64 * 1024;

        private readonly MatrixClient _client;
        private readonly ArrayBufferWriter<byte> _sent = new();
        private readonly ArrayBufferWriter<byte> _received = new();
        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _progress = new(0);
        private long _receivedCount;
        private long _sentCount;

        public DrainClient(MatrixClient client, int index)
        {
            _client = client;
            Index = index;
            LocalPort = client.LocalPort;
            var reading = Task.Run(ReadAsync);
            Finished = Task.Run(async () =>
            {
                await WriteAsync(reading);
                await reading;
                await _client.CloseAsync();
            });
        }

        public int Index { get; }

        public int? LocalPort { get; }

        public bool Flood { get; set; }

        public Task Finished { get; }

        public bool EndedByReset { get; private set; }

        public long ReceivedCount => Interlocked.Read(ref _receivedCount);

        public byte[] Sent
        {
            get
            {
                lock (_gate)
                {
                    return _sent.WrittenSpan.ToArray();
                }
            }
        }

        public byte[] Received => _received.WrittenSpan.ToArray();

        private async Task WriteAsync(Task reading)
        {
            var batch = new StringBuilder();
            for (var k = 0; !reading.IsCompleted; k++)
            {
                while (!Flood && Interlocked.Read(ref _sentCount) - ReceivedCount > Window && !reading.IsCompleted)
                {
                    await _progress.WaitAsync(TimeSpan.FromMilliseconds(200));
                }

                batch.Clear();
                for (var j = 0; j < 16; j++)
                {
                    batch.Append(CultureInfo.InvariantCulture, $"client {Index} line {k * 16 + j}: ça va, ȿ\n");
                }

                // Recorded before sending: a send cut short may deliver part of it.
                var bytes = Encoding.UTF8.GetBytes(batch.ToString());
                lock (_gate)
                {
                    _sent.Write(bytes);
                }

                Interlocked.Add(ref _sentCount, bytes.Length);
                try
                {
                    await _client.SendAsync(bytes);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException
                    or InvalidOperationException or ObjectDisposedException)
                {
                    return;
                }
            }
        }

        private async Task ReadAsync()
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                while (await _client.ReceiveSomeAsync(deadline.Token) is { } data)
                {
                    _received.Write(data);
                    Interlocked.Add(ref _receivedCount, data.Length);
                    if (_progress.CurrentCount == 0)
                    {
                        _progress.Release();
                    }
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException
                or OperationCanceledException)
            {
                EndedByReset = true;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            _progress.Dispose();
        }
    }
}
