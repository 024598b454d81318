using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Shout.Server;

/// <summary>
/// One connection's idle, line-completion and write timeouts, on one timer of the injected
/// <see cref="TimeProvider"/> (so tests drive them with a fake clock). The hot path only stores a
/// timestamp: the timer is armed for the earliest deadline and, when it fires early because
/// activity pushed a deadline later, re-arms itself for the rest (lazy re-arming, no timer per read).
/// Idle and line timeouts cancel the pending read, so the handler closes gracefully with the reason;
/// the write timeout aborts the connection, since a flush to a client that never reads cannot finish.
/// </summary>
internal sealed class ConnectionTimeouts : IDisposable
{
    private const long None = long.MaxValue;

    private readonly TimeProvider _clock;
    private readonly ShoutMetrics _metrics;
    private readonly ConnectionContext _connection;
    private readonly PipeReader _input;
    private readonly long _idle;
    private readonly long _line;
    private readonly long _write;
    private readonly ITimer? _timer;
    private readonly Lock _gate = new();
    private long _idleDeadline = None;
    private long _lineDeadline = None;
    private long _writeDeadline = None;
    private long _dueAt = None;
    private CloseReason? _expired;

    public ConnectionTimeouts(ShoutServerOptions options, TimeProvider clock, ShoutMetrics metrics, ConnectionContext connection, PipeReader input)
    {
        _clock = clock;
        _metrics = metrics;
        _connection = connection;
        _input = input;
        _idle = Units(options.IdleTimeout);
        _line = options.Mode == ShoutMode.Line ? Units(options.LineTimeout) : 0;
        _write = Units(options.WriteTimeout);
        if (_idle == 0 && _line == 0 && _write == 0)
        {
            return;
        }

        _timer = clock.CreateTimer(static s => ((ConnectionTimeouts)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_idle > 0)
        {
            lock (_gate)
            {
                _idleDeadline = _clock.GetTimestamp() + _idle;
                ArmBy(_idleDeadline);
            }
        }
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

    /// <summary>Data arrived: the idle deadline moves (the timer catches up lazily).</summary>
    public void Received()
    {
        if (_idle > 0)
        {
            Volatile.Write(ref _idleDeadline, _clock.GetTimestamp() + _idle);
        }
    }

    /// <summary>Line mode: whether an unfinished line is waiting for its newline after this read.</summary>
    public void LineUnfinished(bool unfinished)
    {
        if (_line == 0 || unfinished == (Volatile.Read(ref _lineDeadline) != None))
        {
            return;
        }

        lock (_gate)
        {
            // The deadline counts from the line's first byte, so trickling bytes does not extend it.
            _lineDeadline = unfinished ? _clock.GetTimestamp() + _line : None;
            if (unfinished)
            {
                ArmBy(_lineDeadline);
            }
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
        lock (_gate)
        {
            _writeDeadline = _clock.GetTimestamp() + _write;
            ArmBy(_writeDeadline);
        }

        _metrics.WriteWaiting(1);
        try
        {
            return await flush;
        }
        finally
        {
            _metrics.WriteWaiting(-1);
            lock (_gate)
            {
                _writeDeadline = None;
                if (_idle > 0)
                {
                    // Waiting for the client to read is not idleness: the idle clock restarts now.
                    _idleDeadline = _clock.GetTimestamp() + _idle;
                }
            }
        }
    }

    private void OnTimer()
    {
        CloseReason reason;
        lock (_gate)
        {
            _dueAt = None;
            if (_expired is not null)
            {
                return;
            }

            var now = _clock.GetTimestamp();
            var idle = Volatile.Read(ref _idleDeadline);
            if (_writeDeadline != None)
            {
                // While a reply waits for the reader only the write timeout applies.
                if (now < _writeDeadline)
                {
                    ArmBy(_writeDeadline);
                    return;
                }

                reason = CloseReason.WriteTimeout;
            }
            else if (now >= _lineDeadline)
            {
                reason = CloseReason.LineTimeout;
            }
            else if (now >= idle)
            {
                reason = CloseReason.IdleTimeout;
            }
            else
            {
                ArmBy(Math.Min(idle, _lineDeadline));
                return;
            }

            _expired = reason;
        }

        if (reason == CloseReason.WriteTimeout)
        {
            _connection.Abort(new ConnectionAbortedException("The client did not read its replies within the write timeout."));
        }
        else
        {
            _input.CancelPendingRead();
        }
    }

    /// <summary>Makes the timer fire no later than <paramref name="deadline"/>. Call under the lock.</summary>
    private void ArmBy(long deadline)
    {
        if (deadline >= _dueAt || deadline == None || _timer is null)
        {
            return;
        }

        _dueAt = deadline;
        var remaining = Math.Max(0, deadline - _clock.GetTimestamp());
        var ticks = (long)Math.Ceiling(remaining * (double)TimeSpan.TicksPerSecond / _clock.TimestampFrequency);
        _timer.Change(TimeSpan.FromTicks(ticks), Timeout.InfiniteTimeSpan);
    }

    private long Units(TimeSpan timeout) => ShoutServerOptions.IsOn(timeout)
        ? (long)Math.Ceiling(timeout.Ticks * (double)_clock.TimestampFrequency / TimeSpan.TicksPerSecond)
        : 0;

    public void Dispose() => _timer?.Dispose();
}
