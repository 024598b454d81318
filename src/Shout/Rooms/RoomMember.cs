using System.Threading.Channels;

namespace Shout.Rooms;

/// <summary>
/// One member of a room: its name, its room and its bounded queue of lines to send. Anyone may
/// <see cref="Deliver"/> to it from any thread without ever waiting, so a member that stops reading
/// never slows the sender or the room: with <see cref="SlowMemberPolicy.Drop"/> the oldest queued
/// lines make room (counted); with <see cref="SlowMemberPolicy.Kick"/> a line that does not fit is
/// dropped (counted) and a queue that stays full for the write timeout kicks the member.
/// The transport drains <see cref="Outgoing"/> to the client.
/// </summary>
internal sealed class RoomMember : IDisposable
{
    private readonly Channel<ReadOnlyMemory<byte>> _queue;
    private readonly RoomMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _kickAfter;
    private readonly SlowMemberPolicy _policy;
    private readonly Action<RoomMember> _kick;
    private readonly Lock _gate = new();
    private ITimer? _kickTimer;
    private long _fullSince;
    private long _sequence;
    private volatile bool _closed;
    private volatile bool _kicked;

    /// <param name="id">Unique in this instance.</param>
    /// <param name="transport">tcp, tls, unix, ws or udp (for logs and <c>/who</c>).</param>
    /// <param name="options">Queue length and slow-member policy.</param>
    /// <param name="writeTimeout">How long the queue may stay full before a kick.</param>
    /// <param name="clock">The clock of that timeout.</param>
    /// <param name="metrics">Where deliveries, drops and kicks are counted.</param>
    /// <param name="kick">Closes the member's connection; called once, from any thread.</param>
    public RoomMember(long id, string transport, ShoutRoomOptions options, TimeSpan writeTimeout, TimeProvider clock,
        RoomMetrics metrics, Action<RoomMember> kick)
    {
        ArgumentNullException.ThrowIfNull(options);
        Id = id;
        Transport = transport;
        Nick = "guest" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Room = ShoutRoomOptions.DefaultRoom;
        _metrics = metrics;
        _clock = clock;
        _kickAfter = writeTimeout;
        _policy = options.SlowMember;
        _kick = kick;
        var bounds = new BoundedChannelOptions(options.QueueLength)
        {
            SingleReader = true,
            FullMode = options.SlowMember == SlowMemberPolicy.Drop ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
        };
        _queue = options.SlowMember == SlowMemberPolicy.Drop
            ? Channel.CreateBounded<ReadOnlyMemory<byte>>(bounds, _ => metrics.Dropped())
            : Channel.CreateBounded<ReadOnlyMemory<byte>>(bounds);
    }

    public long Id { get; }

    public string Transport { get; }

    /// <summary>Set by the hub only (it keeps nicknames unique in this instance).</summary>
    public string Nick { get; internal set; }

    /// <summary>Set by the hub only.</summary>
    public string Room { get; internal set; }

    /// <summary>True once the member was kicked for not reading.</summary>
    public bool Kicked => _kicked;

    /// <summary>What the transport sends to the client, in order.</summary>
    public ChannelReader<ReadOnlyMemory<byte>> Outgoing => _queue.Reader;

    /// <summary>The next number of this member's own lines and notices on the bus (1, 2, ...).</summary>
    public long NextSequence() => Interlocked.Increment(ref _sequence);

    /// <summary>Queues another member's line or a notice; never waits.</summary>
    public void Deliver(ReadOnlyMemory<byte> line)
    {
        if (_queue.Writer.TryWrite(line))
        {
            _metrics.Delivered();
            return;
        }

        if (_closed)
        {
            return;
        }

        _metrics.Dropped();
        StartFullClock();
    }

    /// <summary>
    /// Queues the member's own answer (its uppercased line, a command's reply). In kick mode this waits
    /// for room, which holds back only this member's own reading; false when the member is closed.
    /// </summary>
    public async ValueTask<bool> AnswerAsync(ReadOnlyMemory<byte> line, CancellationToken cancellationToken = default)
    {
        if (!_queue.Writer.TryWrite(line))
        {
            StartFullClock();
            try
            {
                await _queue.Writer.WriteAsync(line, cancellationToken);
            }
            catch (ChannelClosedException)
            {
                return false;
            }
        }

        _metrics.Delivered();
        return true;
    }

    /// <summary>The transport took lines from <see cref="Outgoing"/>: the queue is no longer full.</summary>
    public void Drained() => Volatile.Write(ref _fullSince, 0);

    /// <summary>No more lines will be queued; the transport sends what is queued, then ends.</summary>
    public void Complete()
    {
        _closed = true;
        _queue.Writer.TryComplete();
    }

    private void StartFullClock()
    {
        if (_policy != SlowMemberPolicy.Kick || _kicked || _closed)
        {
            return;
        }

        if (!Online(_kickAfter))
        {
            // No write timeout: a member that cannot take a line is kicked at once.
            Kick();
            return;
        }

        lock (_gate)
        {
            if (Volatile.Read(ref _fullSince) != 0)
            {
                return;
            }

            Volatile.Write(ref _fullSince, Math.Max(1, _clock.GetTimestamp()));
            _kickTimer ??= _clock.CreateTimer(static s => ((RoomMember)s!).OnKickTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _kickTimer.Change(_kickAfter, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnKickTimer()
    {
        var since = Volatile.Read(ref _fullSince);
        if (since == 0 || _kicked)
        {
            return;
        }

        var full = _clock.GetElapsedTime(since);
        if (full >= _kickAfter)
        {
            Kick();
            return;
        }

        // The queue drained and filled again since the timer was set: wait out the rest.
        lock (_gate)
        {
            _kickTimer?.Change(_kickAfter - full, Timeout.InfiniteTimeSpan);
        }
    }

    private void Kick()
    {
        lock (_gate)
        {
            if (_kicked)
            {
                return;
            }

            _kicked = true;
        }

        _metrics.Kicked();
        _closed = true;

        // Nothing queued will be sent: the client is not reading.
        _queue.Writer.TryComplete();
        _kick(this);
    }

    private static bool Online(TimeSpan timeout) => timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan;

    public void Dispose()
    {
        lock (_gate)
        {
            _kickTimer?.Dispose();
            _kickTimer = null;
        }
    }
}
