using System.Text;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// A client streaming as fast as the server answers (row 32's load): it writes 16 KiB chunks (one
/// message each on WebSocket; 1 KiB datagrams on UDP) while reading every answer, keeping up to
/// <see cref="Window"/> bytes unanswered, so the server, not the client, sets the pace. UDP floods
/// without a window: a dropped datagram is never answered. Only counts what it gets.
/// </summary>
internal sealed class StreamingClient : IAsyncDisposable
{
    /// <summary>Most unanswered bytes in flight: enough to keep the server busy, bounded so the client's queue stays small.</summary>
    private const int Window = 256 * 1024;

    private readonly MatrixClient _client;
    private readonly bool _datagram;
    private readonly SemaphoreSlim _progress = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private readonly Task _writing;
    private long _sent;
    private long _received;

    private StreamingClient(MatrixClient client, bool datagram)
    {
        _client = client;
        _datagram = datagram;
        _reading = Task.Run(ReadAsync);
        _writing = Task.Run(WriteAsync);
    }

    /// <summary>Bytes answered so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Why the client stopped early (its connection ended), or null while it streams.</summary>
    public string? Failure { get; private set; }

    public static StreamingClient Start(MatrixClient client, bool datagram) => new(client, datagram);

    private async Task WriteAsync()
    {
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("streaming at full speed, ", (_datagram ? 1024 : 16 * 1024) / 25 + 1)))
            .AsMemory(0, _datagram ? 1024 : 16 * 1024);
        var turn = new ClientTurn();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                while (!_datagram && Interlocked.Read(ref _sent) - Received > Window && !_stop.IsCancellationRequested)
                {
                    await _progress.WaitAsync(TimeSpan.FromMilliseconds(100));
                }

                await _client.SendAsync(chunk, _stop.Token);
                Interlocked.Add(ref _sent, chunk.Length);
                if (turn.Spend(chunk.Length))
                {
                    await Task.Yield();
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException
            or InvalidOperationException or ObjectDisposedException)
        {
            Failure ??= $"send failed: {e.Message}";
        }
    }

    private async Task ReadAsync()
    {
        var turn = new ClientTurn();
        try
        {
            while (await _client.ReceiveSomeAsync(_stop.Token) is { } data)
            {
                Interlocked.Add(ref _received, data.Length);
                if (_progress.CurrentCount == 0)
                {
                    _progress.Release();
                }

                if (turn.Spend(data.Length))
                {
                    await Task.Yield();
                }
            }

            Failure ??= "the server closed the connection";
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException
            or OperationCanceledException or ObjectDisposedException)
        {
            Failure ??= $"receive failed: {e.Message}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            _client.Reset();
        }
        catch (ObjectDisposedException)
        {
            // A cancelled WebSocket receive already aborted the socket.
        }

        await Task.WhenAll(_reading, _writing).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _client.DisposeAsync();
        _stop.Dispose();
        _progress.Dispose();
    }
}
