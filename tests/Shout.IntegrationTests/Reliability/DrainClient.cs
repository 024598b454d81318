using System.Buffers;
using System.Globalization;
using System.Text;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Reliability;

/// <summary>Sends text chunks (one message each on WebSocket) until the server ends, reading every reply meanwhile.</summary>
internal sealed class DrainClient : IAsyncDisposable
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
        var turn = new ClientTurn();
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
                if (turn.Spend(bytes.Length))
                {
                    // A send that completes at once never leaves the thread: give the pool's other work (the next client's connect) its turn.
                    await Task.Yield();
                }
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
        var turn = new ClientTurn();
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

                if (turn.Spend(data.Length))
                {
                    await Task.Yield();
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
