using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Time.Testing;
using Shout.Sessions;
using Shout.Tests.Rooms;

namespace Shout.Tests.Sessions;

/// <summary>The session core's one timeout engine, on a fake clock: idle, line and write deadlines, and what each does to its session.</summary>
public sealed class SessionTimeoutsTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly TestMeters _meters = new();
    private readonly Target _target = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void Idle_fires_once_the_idle_time_passes_with_nothing_received_and_each_receive_restarts_it()
    {
        using var timeouts = Create(new SessionSettings { IdleTimeout = TimeSpan.FromSeconds(10) });

        _clock.Advance(TimeSpan.FromSeconds(9));
        timeouts.Received();
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal((0, 0), (_target.Interrupts, _target.Aborts));
        Assert.Null(timeouts.Expired);

        _clock.Advance(TimeSpan.FromSeconds(1.01));
        Assert.Equal((1, 0), (_target.Interrupts, _target.Aborts));
        Assert.Equal(CloseReason.IdleTimeout, timeouts.Expired);

        // Expired is final: data arriving afterwards neither revives the session nor fires again.
        timeouts.Received();
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(CloseReason.IdleTimeout, timeouts.Expired);
        Assert.Equal(1, _target.Interrupts);
    }

    [Fact]
    public void A_line_counts_from_its_first_byte_so_trickling_does_not_extend_it()
    {
        using var timeouts = Create(new SessionSettings { IdleTimeout = TimeSpan.FromSeconds(60), LineTimeout = TimeSpan.FromSeconds(5) });

        timeouts.Received();
        timeouts.LineUnfinished(true);
        for (var i = 0; i < 4; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            timeouts.Received();
            timeouts.LineUnfinished(true);
        }

        Assert.Null(timeouts.Expired);
        _clock.Advance(TimeSpan.FromSeconds(1.01));
        Assert.Equal(CloseReason.LineTimeout, timeouts.Expired);
        Assert.Equal((1, 0), (_target.Interrupts, _target.Aborts));
    }

    [Fact]
    public void A_finished_line_cancels_its_deadline()
    {
        using var timeouts = Create(new SessionSettings { LineTimeout = TimeSpan.FromSeconds(5) });

        timeouts.LineUnfinished(true);
        _clock.Advance(TimeSpan.FromSeconds(4));
        timeouts.LineUnfinished(false);
        _clock.Advance(TimeSpan.FromSeconds(60));

        Assert.Null(timeouts.Expired);
        Assert.Equal(0, _target.Interrupts);
    }

    [Fact]
    public async Task A_flush_the_client_does_not_take_aborts_after_the_write_timeout_and_idle_time_is_not_counted_meanwhile()
    {
        using var timeouts = Create(new SessionSettings { IdleTimeout = TimeSpan.FromSeconds(1), WriteTimeout = TimeSpan.FromSeconds(10) });
        var (pipe, flush) = StalledFlush(timeouts);
        Assert.False(flush.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal((0, 0), (_target.Interrupts, _target.Aborts));

        _clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal((0, 1), (_target.Interrupts, _target.Aborts));
        Assert.Equal(CloseReason.WriteTimeout, timeouts.Expired);

        // The transport's abort ends the flush; the engine stays expired.
        pipe.Reader.Complete();
        await flush;
        Assert.Equal(CloseReason.WriteTimeout, timeouts.Expired);
    }

    [Fact]
    public async Task Once_the_client_reads_the_idle_clock_restarts_from_then()
    {
        using var timeouts = Create(new SessionSettings { IdleTimeout = TimeSpan.FromSeconds(1), WriteTimeout = TimeSpan.FromSeconds(10) });
        var (pipe, flush) = StalledFlush(timeouts);
        _clock.Advance(TimeSpan.FromSeconds(5));

        var read = await pipe.Reader.ReadAsync();
        pipe.Reader.AdvanceTo(read.Buffer.End);
        await flush;

        _clock.Advance(TimeSpan.FromSeconds(0.9));
        Assert.Null(timeouts.Expired);
        _clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(CloseReason.IdleTimeout, timeouts.Expired);
        Assert.Equal((1, 0), (_target.Interrupts, _target.Aborts));
    }

    [Fact]
    public void With_every_timeout_off_nothing_ever_fires()
    {
        using var timeouts = Create(new SessionSettings { IdleTimeout = Timeout.InfiniteTimeSpan });

        timeouts.Received();
        timeouts.LineUnfinished(true);
        _clock.Advance(TimeSpan.FromDays(2));

        Assert.Null(timeouts.Expired);
        Assert.Equal((0, 0), (_target.Interrupts, _target.Aborts));
    }

    [Fact]
    public void A_disposed_engine_fires_no_more()
    {
        var timeouts = Create(new SessionSettings { IdleTimeout = TimeSpan.FromSeconds(1) });
        timeouts.Dispose();

        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Null(timeouts.Expired);
        Assert.Equal(0, _target.Interrupts);
    }

    /// <summary>A flush the client has not taken: more written than the pipe lets through before its reader reads.</summary>
    private static (Pipe Pipe, Task<FlushResult> Flush) StalledFlush(SessionTimeouts timeouts)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4, resumeWriterThreshold: 2, useSynchronizationContext: false));
        pipe.Writer.Write("12345678"u8);
        return (pipe, timeouts.FlushAsync(pipe.Writer).AsTask());
    }

    private SessionTimeouts Create(SessionSettings settings) => new(settings, _clock, new ShoutMetrics(_meters), _target);

    private sealed class Target : ISessionTimeoutTarget
    {
        public int Interrupts { get; private set; }

        public int Aborts { get; private set; }

        public void Interrupt() => Interrupts++;

        public void Abort() => Aborts++;
    }
}
