namespace Shout.Rooms;

/// <summary>
/// One member of a room: its name, its room and its bounded queue of lines to send. Anyone may
/// <see cref="Deliver"/> to it from any thread without ever waiting, so a member that stops reading
/// never slows the sender or the room: with <see cref="SlowMemberPolicy.Drop"/> the oldest queued
/// lines make room (counted); with <see cref="SlowMemberPolicy.Kick"/> a line that does not fit is
/// dropped (counted) and a queue that stays full for the write timeout kicks the member.
/// The transport drains the queue (<see cref="WaitToReadAsync"/>, <see cref="TryTake"/>) to the client.
/// A delivery is a run of whole lines (<see cref="MemberQueue"/>), shared by every recipient.
/// </summary>
internal sealed class RoomMember : IDisposable
{
    private readonly MemberQueue _queue;
    private readonly RoomMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _kickAfter;
    private readonly SlowMemberPolicy _policy;
    private readonly Action<RoomMember> _kick;
    private readonly Lock _gate = new();
    private readonly Queue<(long Sequence, ReadOnlyMemory<byte> Lines, int Count)> _own = new();
    private int _ownLines;
    private TaskCompletionSource<bool>? _ownWaiter;
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
        QueueLength = options.QueueLength;
        _queue = new MemberQueue(options.QueueLength);
    }

    public long Id { get; }

    /// <summary>Most lines its queue holds.</summary>
    public int QueueLength { get; }

    public string Transport { get; }

    /// <summary>Set by the hub only (it keeps nicknames unique in this instance).</summary>
    public string Nick { get; internal set; }

    /// <summary>Set by the hub only.</summary>
    public string Room { get; internal set; }

    /// <summary>True once the member was kicked for not reading.</summary>
    public bool Kicked => _kicked;

    /// <summary>The transport's writer: true when there are lines to take, false when the member is done.</summary>
    public ValueTask<bool> WaitToReadAsync() => _queue.WaitToReadAsync();

    /// <summary>The writer: whether more lines are queued now (so what it sends can wait for them).</summary>
    public bool HasQueued => _queue.Lines > 0;

    /// <summary>The writer: lines queued now.</summary>
    public int QueuedLines => _queue.Lines;

    /// <summary>The transport's writer: takes the oldest queued run of lines; the queue is no longer full.</summary>
    public bool TryTake(out ReadOnlyMemory<byte> lines)
    {
        if (!_queue.TryTake(out lines))
        {
            return false;
        }

        Volatile.Write(ref _fullSince, 0);
        return true;
    }

    /// <summary>
    /// Numbers the next <paramref name="lines"/> of this member's own lines and notices on the bus
    /// (1, 2, ...): returns the number of the last of them.
    /// </summary>
    public long NextSequence(int lines = 1) => Interlocked.Add(ref _sequence, lines);

    /// <summary>
    /// Queues another member's lines or a notice (<paramref name="count"/> whole lines); never waits.
    /// Returns how many lines were queued (the rest were dropped and counted); the caller counts them
    /// as deliveries, once for the whole room.
    /// </summary>
    public int Deliver(ReadOnlyMemory<byte> lines, int count = 1)
    {
        if (_policy == SlowMemberPolicy.Drop)
        {
            if (_closed)
            {
                return 0;
            }

            var dropped = _queue.AddDroppingOldest(lines, count);
            if (dropped > 0)
            {
                _metrics.Dropped(dropped);
            }

            return count;
        }

        var queued = _queue.TryAdd(lines, count);
        if (queued == count || _closed)
        {
            return queued;
        }

        _metrics.Dropped(count - queued);
        StartFullClock();
        return queued;
    }

    /// <summary>
    /// Queues the member's own answer (its uppercased lines, a command's reply; <paramref name="count"/>
    /// whole lines). In kick mode this waits for room, which holds back only this member's own reading;
    /// false when the member is closed.
    /// </summary>
    public async ValueTask<bool> AnswerAsync(ReadOnlyMemory<byte> lines, int count = 1, CancellationToken cancellationToken = default)
    {
        if (_policy == SlowMemberPolicy.Drop)
        {
            var queued = Deliver(lines, count);
            _metrics.Delivered(queued);
            return queued > 0;
        }

        var waiting = _queue.AddAnswer(lines, count);
        if (waiting is not null)
        {
            StartFullClock();
            if (!await waiting.WaitAsync(cancellationToken))
            {
                return false;
            }
        }

        _metrics.Delivered(count);
        return true;
    }

    /// <summary>
    /// Queues the member's own answer only if it goes in whole now, never waiting: the hub then
    /// numbers its lines in the room's history in the same step (<see cref="RoomHub.Say"/>), so the
    /// member counts them where the history has them. False when it would have to wait or the member is closed.
    /// </summary>
    public bool TryAnswerNow(ReadOnlyMemory<byte> lines, int count)
    {
        if (_policy == SlowMemberPolicy.Drop)
        {
            if (_closed || _queue.Lines + count > QueueLength)
            {
                return false;
            }

            var queued = Deliver(lines, count);
            _metrics.Delivered(queued);
            return queued > 0;
        }

        if (!_queue.TryAddWhole(lines, count))
        {
            return false;
        }

        _metrics.Delivered(count);
        return true;
    }

    /// <summary>
    /// With shared offsets: keeps the member's own answer to its lines until the bus brings those
    /// lines back in the room's order (<see cref="ReleaseOwn"/>); <paramref name="sequence"/> is the
    /// number of their last line in the member's lines.
    /// </summary>
    public void PendOwn(long sequence, ReadOnlyMemory<byte> lines, int count)
    {
        lock (_gate)
        {
            _own.Enqueue((sequence, lines, count));
            _ownLines += count;
        }
    }

    /// <summary>Own answers still waiting for their lines to come back (lines).</summary>
    public int PendingOwnLines => Volatile.Read(ref _ownLines);

    /// <summary>
    /// The member's lines up to <paramref name="sequence"/> came back: their answers go into its
    /// queue now, in order, never waiting (as any delivery). Returns the lines queued.
    /// </summary>
    public int ReleaseOwn(long sequence)
    {
        // Only the bus's one receiving task releases: what it takes here goes into the queue in this order.
        var queued = 0;
        while (true)
        {
            (long Sequence, ReadOnlyMemory<byte> Lines, int Count) own;
            lock (_gate)
            {
                if (!_own.TryPeek(out own) || own.Sequence > sequence)
                {
                    break;
                }

                _own.Dequeue();
                _ownLines -= own.Count;
            }

            queued += Deliver(own.Lines, own.Count);
        }

        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            (waiter, _ownWaiter) = (_ownWaiter, null);
        }

        waiter?.TrySetResult(true);
        return queued;
    }

    /// <summary>
    /// Waits until fewer than <paramref name="limit"/> lines of own answers are pending (1: none);
    /// false when the member closed meanwhile.
    /// </summary>
    public async ValueTask<bool> WaitOwnBelowAsync(int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<bool> changed;
            lock (_gate)
            {
                if (_closed)
                {
                    return false;
                }

                if (_ownLines < limit)
                {
                    return true;
                }

                _ownWaiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                changed = _ownWaiter.Task;
            }

            if (!await changed.WaitAsync(cancellationToken))
            {
                return false;
            }
        }
    }

    /// <summary>No more lines will be queued; the transport sends what is queued, then ends.</summary>
    public void Complete()
    {
        _closed = true;
        _queue.Complete(discard: false);
        WakeOwnWaiter();
    }

    private void WakeOwnWaiter()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            (waiter, _ownWaiter) = (_ownWaiter, null);
        }

        waiter?.TrySetResult(false);
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
        _queue.Complete(discard: true);
        WakeOwnWaiter();
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
