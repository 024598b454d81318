using Microsoft.Extensions.Time.Testing;
using Shout.Sessions;
using Shout.Tests.Rooms;

namespace Shout.Tests.Sessions;

/// <summary>The one timer of a clock's sessions (<see cref="SessionTimerQueue"/>): every session still fires at its own deadline, none a tick late.</summary>
public sealed class SessionTimerQueueTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly TestMeters _meters = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void Sessions_with_different_deadlines_each_fire_at_their_own_not_before_and_not_a_step_later()
    {
        var sessions = Enumerable.Range(1, 50)
            .Select(i => Create(TimeSpan.FromMilliseconds(100 * (51 - i))))
            .ToList();
        Assert.Equal(50, SessionTimerQueue.For(_clock).Count);

        for (var step = 1; step <= 50; step++)
        {
            // Just short of the next deadline nothing more has fired; a millisecond after it, exactly one more.
            _clock.Advance(TimeSpan.FromMilliseconds(99));
            Assert.Equal(step - 1, sessions.Sum(s => s.Target.Interrupts));
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(step, sessions.Sum(s => s.Target.Interrupts));
            Assert.Equal(CloseReason.IdleTimeout, sessions[50 - step].Timeouts.Expired);
        }

        Assert.Equal(0, SessionTimerQueue.For(_clock).Count);
        Assert.All(sessions, s => Assert.Equal(1, s.Target.Interrupts));
    }

    [Fact]
    public void A_session_whose_deadline_moves_later_fires_then_and_the_others_keep_theirs()
    {
        var early = Create(TimeSpan.FromSeconds(10));
        var late = Create(TimeSpan.FromSeconds(20));

        _clock.Advance(TimeSpan.FromSeconds(5));
        early.Timeouts.Received(); // now due at 15 s, after a second's slack: moved in the queue
        _clock.Advance(TimeSpan.FromSeconds(9.99));
        Assert.Equal((0, 0), (early.Target.Interrupts, late.Target.Interrupts));

        _clock.Advance(TimeSpan.FromSeconds(0.01));
        Assert.Equal((1, 0), (early.Target.Interrupts, late.Target.Interrupts));

        _clock.Advance(TimeSpan.FromSeconds(4.99));
        Assert.Equal(0, late.Target.Interrupts);
        _clock.Advance(TimeSpan.FromSeconds(0.01));
        Assert.Equal(1, late.Target.Interrupts);
    }

    [Fact]
    public void Disposed_sessions_leave_the_queue_and_never_fire_while_the_rest_do()
    {
        var sessions = Enumerable.Range(0, 1000).Select(_ => Create(TimeSpan.FromSeconds(30))).ToList();
        foreach (var s in sessions.Where((_, i) => i % 10 != 0))
        {
            s.Timeouts.Dispose();
        }

        Assert.Equal(100, SessionTimerQueue.For(_clock).Count);
        _clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(0, SessionTimerQueue.For(_clock).Count);
        Assert.All(sessions.Select((s, i) => (s, i)), p => Assert.Equal(p.i % 10 == 0 ? 1 : 0, p.s.Target.Interrupts));
    }

    [Fact]
    public void Each_clock_has_its_own_queue()
    {
        var other = new FakeTimeProvider();
        var here = Create(TimeSpan.FromSeconds(1));
        var there = new Target();
        using var thereTimeouts = new SessionTimeouts(new SessionSettings { IdleTimeout = TimeSpan.FromSeconds(1) }, other, new ShoutMetrics(_meters), there);

        _clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal((1, 0), (here.Target.Interrupts, there.Interrupts));
        Assert.NotSame(SessionTimerQueue.For(_clock), SessionTimerQueue.For(other));
    }

    private (SessionTimeouts Timeouts, Target Target) Create(TimeSpan idle)
    {
        var target = new Target();
        return (new SessionTimeouts(new SessionSettings { IdleTimeout = idle, WriteTimeout = TimeSpan.Zero }, _clock, new ShoutMetrics(_meters), target), target);
    }

    private sealed class Target : ISessionTimeoutTarget
    {
        public int Interrupts { get; private set; }

        public void Interrupt() => Interrupts++;

        public void Abort() => throw new InvalidOperationException("no write timeout here");
    }
}
