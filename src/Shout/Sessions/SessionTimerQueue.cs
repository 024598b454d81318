using System.Runtime.CompilerServices;

namespace Shout.Sessions;

/// <summary>
/// One timer for the timeouts of every session on a clock. A timer per session cost an idle
/// connection 120 bytes (the runtime's <c>TimerQueueTimer</c> and <c>TimeProvider</c>'s wrapper) and
/// as much again in garbage at accept; here a session is a slot in a binary heap ordered by due time,
/// and the one timer is armed for the earliest. Deadlines keep their precision (the timer fires at
/// the earliest due time, rounded up to the millisecond, as a session's own timer did), unlike a
/// wheel of coarse ticks. A session whose deadline moves is moved in the heap: O(log n) under one
/// lock, which <see cref="SessionTimeouts"/> touches only when a deadline changes by a second or more
/// (a busy connection about once a second) or a line or a write starts waiting.
/// </summary>
internal sealed class SessionTimerQueue
{
    internal const long None = long.MaxValue;

    // One queue per clock: the sessions' engines are made by every transport with only the clock at
    // hand, and tests give each server its own fake clock.
    private static readonly ConditionalWeakTable<TimeProvider, SessionTimerQueue> Queues = new();

    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private SessionTimeouts[] _heap = new SessionTimeouts[16];
    private int _count;
    private long _armedFor = None;

    private SessionTimerQueue(TimeProvider clock)
    {
        Clock = clock;
        Slack = Units(TimeSpan.FromSeconds(1));
        Drift = Units(TimeSpan.FromMilliseconds(1));
        _timer = clock.CreateTimer(static s => ((SessionTimerQueue)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The queue of <paramref name="clock"/>'s sessions.</summary>
    public static SessionTimerQueue For(TimeProvider clock) => Queues.GetValue(clock, static c => new SessionTimerQueue(c));

    /// <summary>The clock of every deadline in the queue.</summary>
    public TimeProvider Clock { get; }

    /// <summary>How far an idle deadline may creep past the due time before the session is moved (one second, in clock units).</summary>
    public long Slack { get; }

    /// <summary>A clock that moved more than this between reading it and arming the timer is read again (one millisecond).</summary>
    public long Drift { get; }

    /// <summary>Sessions waiting for a deadline.</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>A duration in the clock's units, rounded up (0 for an off timeout).</summary>
    public long Units(TimeSpan timeout) => SessionSettings.IsOn(timeout)
        ? (long)Math.Ceiling(timeout.Ticks * (double)Clock.TimestampFrequency / TimeSpan.TicksPerSecond)
        : 0;

    /// <summary>
    /// Makes <paramref name="session"/>'s next fire <paramref name="deadline"/> (a clock timestamp), or
    /// takes it out of the queue for <see cref="None"/>. It is fired once at or after that time,
    /// through <see cref="SessionTimeouts.OnTimer"/>, which schedules itself again if it is early.
    /// </summary>
    public void Schedule(SessionTimeouts session, long deadline)
    {
        lock (_lock)
        {
            if (deadline == None)
            {
                if (session.QueueIndex >= 0)
                {
                    RemoveAt(session.QueueIndex);
                }
            }
            else if (session.QueueIndex < 0)
            {
                session.QueueDue = deadline;
                Add(session);
            }
            else
            {
                var earlier = deadline < session.QueueDue;
                session.QueueDue = deadline;
                if (earlier)
                {
                    Up(session.QueueIndex);
                }
                else
                {
                    Down(session.QueueIndex);
                }
            }

            ArmForFirst();
        }
    }

    private void OnTimer()
    {
        // Everything due by now, in deadline order, each called outside the lock (a session's callback
        // takes its own lock and may schedule itself again, always for later than now).
        var now = Clock.GetTimestamp();
        while (true)
        {
            SessionTimeouts due;
            lock (_lock)
            {
                if (_count == 0 || _heap[0].QueueDue > now)
                {
                    _armedFor = None;
                    ArmForFirst();
                    return;
                }

                due = _heap[0];
                RemoveAt(0);
            }

            due.OnTimer();
        }
    }

    /// <summary>Arms the timer for the earliest deadline, unless it already is. Call under the lock.</summary>
    private void ArmForFirst()
    {
        var first = _count > 0 ? _heap[0].QueueDue : None;
        if (first == _armedFor)
        {
            return;
        }

        _armedFor = first;
        if (first == None)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        // A timer takes a due time relative to when it is armed, so a clock that moved between reading
        // it and arming (a thread preempted there; a test's clock advanced) would make it fire late by
        // that much: then it is armed again from a new reading. Given as a period too, because a clock
        // may disarm a one-shot timer after its callback returns, undoing a re-arm made inside it
        // (FakeTimeProvider does); a fire with nothing due just arms again.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = Clock.GetTimestamp();
            var due = DueIn(first, now);
            _timer.Change(due, due);
            if (Clock.GetTimestamp() - now < Drift)
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
        var milliseconds = Math.Ceiling(remaining * 1000.0 / Clock.TimestampFrequency);
        return TimeSpan.FromMilliseconds(Math.Max(1, milliseconds));
    }

    private void Add(SessionTimeouts session)
    {
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }

        _heap[_count] = session;
        session.QueueIndex = _count;
        _count++;
        Up(_count - 1);
    }

    private void RemoveAt(int index)
    {
        var removed = _heap[index];
        removed.QueueIndex = -1;
        _count--;
        if (index != _count)
        {
            var last = _heap[_count];
            _heap[index] = last;
            last.QueueIndex = index;
            _heap[_count] = null!;
            Up(index);
            Down(last.QueueIndex);
        }
        else
        {
            _heap[_count] = null!;
        }

        // A crowd that came and went leaves no large array behind.
        if (_heap.Length > 64 && _count < _heap.Length / 4)
        {
            Array.Resize(ref _heap, _heap.Length / 2);
        }
    }

    private void Up(int index)
    {
        var item = _heap[index];
        while (index > 0)
        {
            var parent = (index - 1) / 2;
            if (_heap[parent].QueueDue <= item.QueueDue)
            {
                break;
            }

            Place(_heap[parent], index);
            index = parent;
        }

        Place(item, index);
    }

    private void Down(int index)
    {
        var item = _heap[index];
        while (true)
        {
            var child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _heap[child + 1].QueueDue < _heap[child].QueueDue)
            {
                child++;
            }

            if (item.QueueDue <= _heap[child].QueueDue)
            {
                break;
            }

            Place(_heap[child], index);
            index = child;
        }

        Place(item, index);
    }

    private void Place(SessionTimeouts session, int index)
    {
        _heap[index] = session;
        session.QueueIndex = index;
    }
}
