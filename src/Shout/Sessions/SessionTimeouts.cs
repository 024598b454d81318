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
/// The one timeout engine of every transport: a session's idle, line-completion and write timeouts on one timer of the injected
/// <see cref="TimeProvider"/> (tests drive it with a fake clock). The timer is created once per
/// connection and its due time is moved to the earliest live deadline whenever one changes (a read,
/// a line left unfinished, a flush that waits): no allocation per read. Idle and line timeouts cancel
/// the pending read (<see cref="ISessionTimeoutTarget.Interrupt"/>), so the transport closes
/// gracefully and records the reason; the write timeout aborts the session, since a write to a
/// client that never reads cannot finish.
/// </summary>
internal sealed class SessionTimeouts : IDisposable
{
    private const long None = long.MaxValue;

    private readonly TimeProvider _clock;
    private readonly ShoutMetrics _metrics;
    private readonly ISessionTimeoutTarget _target;
    private readonly long _idle;
    private readonly long _line;
    private readonly long _write;
    private readonly long _slack;
    private readonly long _drift;
    private readonly ITimer? _timer;
    private readonly Lock _gate = new();
    private long _idleDeadline = None;
    private long _lineDeadline = None;
    private long _writeDeadline = None;
    private long _dueAt = None;

    // When data last arrived (set only while the idle timeout is on, which reads the clock for it anyway).
    private long _receivedAt = None;
    private CloseReason? _expired;

    /// <param name="settings">The timeouts (read once: a reload does not change an open session's).</param>
    /// <param name="clock">The clock of every deadline.</param>
    /// <param name="metrics">Counts expiries and writes waiting.</param>
    /// <param name="target">What to do when one fires.</param>
    public SessionTimeouts(SessionSettings settings, TimeProvider clock, ShoutMetrics metrics, ISessionTimeoutTarget target)
    {
        _clock = clock;
        _metrics = metrics;
        _target = target;
        _idle = Units(settings.IdleTimeout);
        _line = Units(settings.LineTimeout);
        _write = Units(settings.WriteTimeout);
        _slack = Units(TimeSpan.FromSeconds(1));
        _drift = Units(TimeSpan.FromMilliseconds(1));
        if (_idle == 0 && _line == 0 && _write == 0)
        {
            return;
        }

        _timer = clock.CreateTimer(static s => ((SessionTimeouts)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Received();
    }

    /// <summary>The timeout that ended the connection, if one did.</summary>
    public CloseReason? Expired
    {
        get
        {
            lock (_gate)
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

        lock (_gate)
        {
            _receivedAt = _clock.GetTimestamp();
            var deadline = _receivedAt + _idle;
            _idleDeadline = deadline;

            // The hot path: on a busy connection the idle deadline creeps forward with every read.
            // The timer already fires no later than it, so moving the timer is skipped unless the
            // deadline has moved by a second or more; an early fire just re-arms (Refire). So a
            // busy connection touches the timer at most about once a second, not once per read.
            if (_dueAt <= deadline && deadline - _dueAt < _slack)
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

        lock (_gate)
        {
            // From when the read that brought the line's first byte arrived (one clock read per read, not two).
            var start = _receivedAt != None ? _receivedAt : _clock.GetTimestamp();
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

        lock (_gate)
        {
            _writeDeadline = _clock.GetTimestamp() + _write;
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
        lock (_gate)
        {
            _writeDeadline = None;

            // Waiting for the client to read is not idleness: the idle clock restarts now.
            _idleDeadline = _idle > 0 ? _clock.GetTimestamp() + _idle : None;
            Rearm();
        }
    }

    /// <summary>Moves the timer to the earliest live deadline. Call under the lock.</summary>
    private void Rearm()
    {
        // While a reply waits for its reader only the write timeout applies.
        var next = _writeDeadline != None ? _writeDeadline : Math.Min(_idleDeadline, _lineDeadline);
        if (next == _dueAt || _timer is null || _expired is not null)
        {
            return;
        }

        _dueAt = next;
        if (next == None)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        else
        {
            ArmAt(next, repeat: false);
        }
    }

    private void OnTimer()
    {
        CloseReason reason;
        lock (_gate)
        {
            if (_expired is not null || _timer is null)
            {
                return;
            }

            var now = _clock.GetTimestamp();
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

    /// <summary>
    /// From inside the callback (it fired a little early, or raced a deadline change): fire again at
    /// <paramref name="deadline"/>. Given as a period too, because a clock may disarm a one-shot timer
    /// after its callback returns, undoing a plain re-arm (FakeTimeProvider does); the next change of
    /// deadline replaces the period again.
    /// </summary>
    private void Refire(long deadline)
    {
        _dueAt = deadline;
        if (deadline != None)
        {
            ArmAt(deadline, repeat: true);
        }
    }

    /// <summary>
    /// Arms the timer for <paramref name="deadline"/>. A timer takes a due time relative to when it is
    /// armed, so a clock that moved between reading it and arming (a thread preempted there; a test's
    /// clock advanced) would make it fire late by that much: then it is armed again from a new reading.
    /// </summary>
    private void ArmAt(long deadline, bool repeat)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = _clock.GetTimestamp();
            var due = DueIn(deadline, now);
            _timer!.Change(due, repeat ? due : Timeout.InfiniteTimeSpan);
            if (_clock.GetTimestamp() - now < _drift)
            {
                return;
            }
        }
    }

    /// <summary>Time until <paramref name="deadline"/>, rounded up to whole milliseconds (timer resolution),
    /// so the timer never fires before the deadline and never with a zero due time.</summary>
    private TimeSpan DueIn(long deadline, long now)
    {
        var remaining = Math.Max(0, deadline - now);
        var milliseconds = Math.Ceiling(remaining * 1000.0 / _clock.TimestampFrequency);
        return TimeSpan.FromMilliseconds(Math.Max(1, milliseconds));
    }

    private long Units(TimeSpan timeout) => SessionSettings.IsOn(timeout)
        ? (long)Math.Ceiling(timeout.Ticks * (double)_clock.TimestampFrequency / TimeSpan.TicksPerSecond)
        : 0;

    public void Dispose() => _timer?.Dispose();
}
