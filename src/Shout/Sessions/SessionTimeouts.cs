using System.IO.Pipelines;

namespace Shout.Sessions;

/// <summary>What a transport does when one of its session's timeouts fires.</summary>
internal interface ISessionTimeoutTarget
{
    /// <summary>Idle or line timeout: stop waiting for input so the session closes gracefully with <see cref="SessionTimeouts.Expired"/>.</summary>
    void Interrupt();

    /// <summary>Write timeout: the client does not take its replies, so the session is aborted.</summary>
    void Abort();
}

/// <summary>
/// The one timeout engine of every transport: a session's idle, line-completion and write timeouts,
/// as one due time in its clock's <see cref="SessionTimerQueue"/> (one timer for all sessions of the
/// injected <see cref="TimeProvider"/>; tests drive it with a fake clock). The due time is moved to the
/// earliest live deadline whenever one changes (a read, a line left unfinished, a flush that waits):
/// no allocation per read. Idle and line timeouts cancel the pending read
/// (<see cref="ISessionTimeoutTarget.Interrupt"/>), so the transport closes gracefully and records
/// the reason; the write timeout aborts the session, since a write to a client that never reads
/// cannot finish.
/// </summary>
internal sealed class SessionTimeouts : IDisposable
{
    private const long None = SessionTimerQueue.None;

    private readonly SessionTimerQueue? _queue;
    private readonly ShoutMetrics _metrics;
    private readonly ISessionTimeoutTarget _target;
    private readonly long _idle;
    private readonly long _line;
    private readonly long _write;
    private long _idleDeadline = None;
    private long _lineDeadline = None;
    private long _writeDeadline = None;
    private long _dueAt = None;

    // When data last arrived (set only while the idle timeout is on, which reads the clock for it anyway).
    private long _receivedAt = None;
    private CloseReason? _expired;
    private bool _disposed;

    /// <param name="settings">The timeouts (read once: a reload does not change an open session's).</param>
    /// <param name="clock">The clock of every deadline.</param>
    /// <param name="metrics">Counts expiries and writes waiting.</param>
    /// <param name="target">What to do when one fires.</param>
    public SessionTimeouts(SessionSettings settings, TimeProvider clock, ShoutMetrics metrics, ISessionTimeoutTarget target)
    {
        _metrics = metrics;
        _target = target;
        var queue = SessionTimerQueue.For(clock);
        _idle = queue.Units(settings.IdleTimeout);
        _line = queue.Units(settings.LineTimeout);
        _write = queue.Units(settings.WriteTimeout);
        if (_idle == 0 && _line == 0 && _write == 0)
        {
            return;
        }

        _queue = queue;
        Received();
    }

    /// <summary>Where this session sits in its <see cref="SessionTimerQueue"/> (-1: not queued); the queue's, under its lock.</summary>
    internal int QueueIndex { get; set; } = -1;

    /// <summary>When the queue fires this session next; the queue's, under its lock.</summary>
    internal long QueueDue { get; set; } = None;

    /// <summary>The timeout that ended the connection, if one did.</summary>
    public CloseReason? Expired
    {
        get
        {
            lock (this)
            {
                return _expired;
            }
        }
    }

    /// <summary>Data arrived (or the connection opened): the idle deadline restarts.</summary>
    public void Received()
    {
        if (_idle == 0)
        {
            return;
        }

        lock (this)
        {
            _receivedAt = _queue!.Clock.GetTimestamp();
            var deadline = _receivedAt + _idle;
            _idleDeadline = deadline;

            // The hot path: on a busy connection the idle deadline creeps forward with every read.
            // The timer already fires no later than it, so moving the timer is skipped unless the
            // deadline has moved by a second or more; an early fire just re-arms (Refire). So a
            // busy connection touches the timer at most about once a second, not once per read.
            if (_dueAt <= deadline && deadline - _dueAt < _queue.Slack)
            {
                return;
            }

            Rearm();
        }
    }

    /// <summary>Line mode: whether an unfinished line is waiting for its newline after this read.</summary>
    public void LineUnfinished(bool unfinished)
    {
        // Only a change matters: the deadline counts from the line's first byte, so trickling does not extend it.
        if (_line == 0 || unfinished == (Volatile.Read(ref _lineDeadline) != None))
        {
            return;
        }

        lock (this)
        {
            // From when the read that brought the line's first byte arrived (one clock read per read, not two).
            var start = _receivedAt != None ? _receivedAt : _queue!.Clock.GetTimestamp();
            _lineDeadline = unfinished ? start + _line : None;
            Rearm();
        }
    }

    /// <summary>Flushes replies; a flush that waits for a client that does not read is bounded by the write timeout.</summary>
    public ValueTask<FlushResult> FlushAsync(PipeWriter output)
    {
        var flush = output.FlushAsync();
        return flush.IsCompleted || _write == 0 ? flush : WaitForReaderAsync(flush);
    }

    private async ValueTask<FlushResult> WaitForReaderAsync(ValueTask<FlushResult> flush)
    {
        WriteWaiting();
        try
        {
            return await flush;
        }
        finally
        {
            WriteDone();
        }
    }

    /// <summary>
    /// A write is waiting for the client to take data: only the write timeout applies until
    /// <see cref="WriteDone"/>. Call only for a write that did not complete at once.
    /// </summary>
    public void WriteWaiting()
    {
        if (_write == 0)
        {
            return;
        }

        lock (this)
        {
            _writeDeadline = _queue!.Clock.GetTimestamp() + _write;
            Rearm();
        }

        _metrics.WriteWaiting(1);
    }

    /// <summary>The write that <see cref="WriteWaiting"/> announced has finished (or failed).</summary>
    public void WriteDone()
    {
        if (_write == 0)
        {
            return;
        }

        _metrics.WriteWaiting(-1);
        lock (this)
        {
            _writeDeadline = None;

            // Waiting for the client to read is not idleness: the idle clock restarts now.
            _idleDeadline = _idle > 0 ? _queue!.Clock.GetTimestamp() + _idle : None;
            Rearm();
        }
    }

    /// <summary>Moves the session's due time in the queue to the earliest live deadline. Call under the lock.</summary>
    private void Rearm()
    {
        // While a reply waits for its reader only the write timeout applies.
        var next = _writeDeadline != None ? _writeDeadline : Math.Min(_idleDeadline, _lineDeadline);
        if (next == _dueAt || _queue is null || _expired is not null || _disposed)
        {
            return;
        }

        _dueAt = next;
        _queue.Schedule(this, next);
    }

    /// <summary>The queue's fire for this session's due time (it may be early, or have raced a change of deadline).</summary>
    internal void OnTimer()
    {
        CloseReason reason;
        lock (this)
        {
            if (_expired is not null || _queue is null || _disposed)
            {
                return;
            }

            var now = _queue.Clock.GetTimestamp();
            if (_writeDeadline != None)
            {
                if (now < _writeDeadline)
                {
                    Refire(_writeDeadline);
                    return;
                }

                reason = CloseReason.WriteTimeout;
            }
            else if (now >= _lineDeadline)
            {
                reason = CloseReason.LineTimeout;
            }
            else if (now >= _idleDeadline)
            {
                reason = CloseReason.IdleTimeout;
            }
            else
            {
                Refire(Math.Min(_idleDeadline, _lineDeadline));
                return;
            }

            _expired = reason;
            _dueAt = None;
        }

        _metrics.TimeoutExpired();

        if (reason == CloseReason.WriteTimeout)
        {
            _target.Abort();
        }
        else
        {
            _target.Interrupt();
        }
    }

    /// <summary>From inside the fire (it came early, or raced a deadline change): queued again for <paramref name="deadline"/>.</summary>
    private void Refire(long deadline)
    {
        _dueAt = deadline;
        _queue!.Schedule(this, deadline);
    }

    public void Dispose()
    {
        if (_queue is null)
        {
            return;
        }

        lock (this)
        {
            _disposed = true;
            _dueAt = None;
            _queue.Schedule(this, None);
        }
    }
}
