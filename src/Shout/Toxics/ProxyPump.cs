using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Shout.Toxics;

/// <summary>
/// One direction of a proxied connection. With no toxic acting on this direction the reader sends
/// each chunk on itself, a straight copy from one socket to the other (one receive, one send, no
/// queue, no timer, no thread hop). With a toxic, the reader puts chunks into a small bounded queue
/// and a writer passes each through the toxics and sends it on, so the reader keeps reading (and
/// time-stamping) while the writer waits out a latency. The reader copies straight only when the
/// writer has nothing left, so bytes keep their order when a toxic comes or goes mid-connection.
/// Buffering is bounded: when the receiving peer stops reading, the send blocks, the queue fills,
/// the reader stops reading, and the sending peer's TCP window closes (backpressure), so a
/// direction holds at most <see cref="MaxBufferedBytes"/>. A FIN read is forwarded as a FIN
/// (shutdown of the write side), after any slow_close delay.
/// </summary>
internal sealed class ProxyPump
{
    /// <summary>Bytes read at once.</summary>
    public const int ChunkSize = 16 * 1024;

    /// <summary>
    /// Bytes read at once by a straight copy while a stream is flowing (the last read filled its
    /// buffer): a quarter of the system calls per byte, measured half the proxy's CPU per 16 KiB
    /// (docs/benchmarks.md). Back to <see cref="ChunkSize"/> at the first short read, so an idle
    /// or ping-pong connection holds 16 KiB a direction.
    /// </summary>
    public const int FlowingChunkSize = 64 * 1024;

    /// <summary>Chunks waiting for the writer.</summary>
    public const int QueuedChunks = 4;

    /// <summary>The most one direction holds: the queue, the chunk being read and the one being written.</summary>
    public const int MaxBufferedBytes = (QueuedChunks + 2) * ChunkSize;

    private readonly ProxyConnection _connection;
    private readonly Socket _from;
    private readonly Socket _to;
    private readonly ToxicStream _stream;
    private readonly Channel<Chunk> _queue = Channel.CreateBounded<Chunk>(
        new BoundedChannelOptions(QueuedChunks) { SingleReader = true, SingleWriter = true });
    private readonly Dictionary<ToxicSpec, long> _limited = new(ReferenceEqualityComparer.Instance);
    private long _bandwidthDue;
    private bool _paced; // the last chunk the writer sent went through the bandwidth toxic: its schedule goes on

    /// <summary>Chunks queued for the writer and not yet sent; the reader copies straight only at 0.</summary>
    private int _pending;

    /// <summary>The toxic list last looked at, and whether any of it acts on this direction of this connection.</summary>
    private ToxicSpec[]? _seen;
    private bool _seenActs;

    public ProxyPump(ProxyConnection connection, Socket from, Socket to, ToxicStream stream)
    {
        _connection = connection;
        _from = from;
        _to = to;
        _stream = stream;
    }

    public Task RunAsync() => Task.WhenAll(ReadAsync(), WriteAsync());

    private CancellationToken Ended => _connection.Ended;

    private async Task ReadAsync()
    {
        try
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
            var size = ChunkSize;
            long waitingSince = 0;
            try
            {
                while (true)
                {
                    if (buffer.Length < size)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(size);
                    }

                    var receive = _from.ReceiveAsync(buffer.AsMemory(0, size), SocketFlags.None, Ended);

                    // Bytes the kernel already held when asked have waited at least since the last
                    // chunk was read: a reader slow to come back (a busy machine, a full queue) must not
                    // make a bandwidth toxic's link look idle and lose its credit.
                    var waited = receive.IsCompleted && waitingSince != 0;
                    var read = await receive.ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    if (Volatile.Read(ref _pending) == 0 && !ToxicsAct())
                    {
                        // Bytes a straight copy sent waited for no toxic: nothing to inherit from them.
                        waitingSince = 0;
                        await SendAllAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                        size = read == size ? FlowingChunkSize : ChunkSize;
                        if (size == ChunkSize && buffer.Length > ChunkSize)
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                        }

                        continue;
                    }

                    var readAt = Stopwatch.GetTimestamp();
                    waitingSince = waited ? waitingSince : readAt;

                    // Through the toxics: chunks of 16 KiB, so the queue holds what MaxBufferedBytes says
                    // (but for the one read while a toxic came, which may be a flowing 64 KiB).
                    size = ChunkSize;
                    Interlocked.Increment(ref _pending);
                    var chunk = new Chunk(buffer, read, readAt, waitingSince);
                    buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                    await _queue.Writer.WriteAsync(chunk, Ended).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (SocketException)
        {
            // The peer reset (or the socket failed): the other peer is told by a reset too.
            _connection.Abort();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
        }
    }

    private async Task WriteAsync()
    {
        try
        {
            await foreach (var chunk in _queue.Reader.ReadAllAsync(Ended).ConfigureAwait(false))
            {
                try
                {
                    if (!await ForwardAsync(chunk).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(chunk.Buffer);
                    Interlocked.Decrement(ref _pending);
                }
            }

            if (Ended.IsCancellationRequested)
            {
                return;
            }

            foreach (var toxic in Mine())
            {
                if (toxic.Type == "slow_close")
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(toxic["delay"]), Ended).ConfigureAwait(false);
                }
            }

            _to.Shutdown(SocketShutdown.Send);
            _connection.FinForwarded(_stream);
        }
        catch (SocketException)
        {
            _connection.Abort();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Whether any toxic acts on this direction of this connection: worked out again only when the
    /// proxy's toxic list changed (a new array), so the straight copy costs one reference compare.
    /// </summary>
    private bool ToxicsAct()
    {
        var now = _connection.Toxics.Current;
        if (!ReferenceEquals(now, _seen))
        {
            var acts = false;
            foreach (var toxic in now)
            {
                acts |= toxic.Stream == _stream && _connection.Applies(toxic, out _);
            }

            (_seen, _seenActs) = (now, acts);
        }

        return _seenActs;
    }

    /// <summary>The toxics of this direction that act on this connection, in the proxy's order.</summary>
    private IEnumerable<ToxicSpec> Mine()
    {
        foreach (var toxic in _connection.Toxics.Current)
        {
            if (toxic.Stream == _stream && _connection.Applies(toxic, out _))
            {
                yield return toxic;
            }
        }
    }

    /// <summary>Sends one chunk through the toxics; false when the connection ends here.</summary>
    private async Task<bool> ForwardAsync(Chunk chunk)
    {
        var data = chunk.Buffer.AsMemory(0, chunk.Length);
        ToxicSpec? slicer = null;
        ToxicSpec? bandwidth = null;
        var closeAfter = false;
        foreach (var toxic in Mine())
        {
            switch (toxic.Type)
            {
                case "latency":
                    // Measured from when the chunk was read, as toxiproxy does, so a stream is
                    // delayed by the latency once rather than once per chunk queued behind it.
                    var delay = toxic["latency"] + _connection.Random.Spread(toxic["jitter"]);
                    var due = chunk.ReadAt + (delay * Stopwatch.Frequency / 1000);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, Ended).ConfigureAwait(false);
                    }

                    break;
                case "timeout":
                    // "Cable unplugged": nothing gets through; the connection's watch closes it on time.
                    return true;
                case "reset_peer":
                    await Task.Delay(TimeSpan.FromMilliseconds(toxic["timeout"]), Ended).ConfigureAwait(false);
                    _connection.Abort();
                    return false;
                case "limit_data":
                    _limited.TryGetValue(toxic, out var sent);
                    var left = toxic["bytes"] - sent;
                    if (left < data.Length)
                    {
                        data = data[..(int)Math.Max(0, left)];
                    }

                    _limited[toxic] = sent + data.Length;
                    closeAfter |= sent + data.Length >= toxic["bytes"];
                    break;
                case "slicer":
                    slicer = toxic;
                    break;
                case "bandwidth":
                    bandwidth = toxic;
                    break;
                default:
                    break;
            }
        }

        await SendAsync(data, slicer, bandwidth, chunk.WaitingSince).ConfigureAwait(false);
        if (closeAfter)
        {
            _connection.Close();
            return false;
        }

        return true;
    }

    private async Task SendAsync(ReadOnlyMemory<byte> data, ToxicSpec? slicer, ToxicSpec? bandwidth, long waitingSince)
    {
        if (slicer is null)
        {
            await SendPacedAsync(data, bandwidth, waitingSince).ConfigureAwait(false);
            return;
        }

        var average = (int)slicer["average_size"];
        var variation = (int)slicer["size_variation"];
        var pause = TimeSpan.FromMicroseconds(slicer["delay"]);
        while (data.Length > 0)
        {
            var size = (int)Math.Clamp(average + _connection.Random.Spread(variation), 1, data.Length);
            await SendPacedAsync(data[..size], bandwidth, waitingSince).ConfigureAwait(false);
            data = data[size..];
            if (data.Length > 0 && pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, Ended).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Sends at most the bandwidth toxic's rate (KB/s, 1 KB = 1000 bytes, 0 = no limit), in steps of
    /// 50 ms worth so the rate holds within a chunk; credit only for time data was waiting.
    /// </summary>
    private async Task SendPacedAsync(ReadOnlyMemory<byte> data, ToxicSpec? bandwidth, long waitingSince)
    {
        var rate = bandwidth?["rate"] * 1000 ?? 0;
        if (rate <= 0)
        {
            _paced = false;
            await SendAllAsync(data).ConfigureAwait(false);
            return;
        }

        // Credit only for time data was waiting: a link that had nothing to send starts its schedule
        // when the data was read (no burst after a pause), while a proxy that was slow to wake (a busy
        // machine) catches up, so the rate holds over time. A schedule that was not running (the toxic
        // just came) starts now, whatever the data waited for before it.
        _bandwidthDue = _paced ? Math.Max(_bandwidthDue, waitingSince) : Stopwatch.GetTimestamp();
        _paced = true;
        var step = (int)Math.Max(1, Math.Min(rate / 20, ChunkSize));
        while (data.Length > 0)
        {
            var now = Stopwatch.GetTimestamp();
            var wait = Stopwatch.GetElapsedTime(now, _bandwidthDue);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, Ended).ConfigureAwait(false);
            }

            var piece = data[..Math.Min(step, data.Length)];
            await SendAllAsync(piece).ConfigureAwait(false);
            _bandwidthDue += piece.Length * Stopwatch.Frequency / rate;
            data = data[piece.Length..];
        }
    }

    private async Task SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (data.Length > 0)
        {
            var sent = await _to.SendAsync(data, SocketFlags.None, Ended).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <param name="Buffer">The pooled array holding it.</param>
    /// <param name="Length">Bytes in it.</param>
    /// <param name="ReadAt">When it was read (latency counts from here).</param>
    /// <param name="WaitingSince">When its bytes were waiting at the latest: when it was read, or when an earlier chunk was if the kernel held them already.</param>
    private readonly record struct Chunk(byte[] Buffer, int Length, long ReadAt, long WaitingSince);
}
