namespace Shout.Rooms;

/// <summary>
/// A moment a stream member's writer waits for more lines before it writes, so what several senders
/// say within it reaches a member in one write (one system call) instead of one each: at 10 senders
/// of 1,000 lines/s each, one write carries about ten lines instead of one. One tick for every writer
/// that waits (no timer per member), armed only while one does; a writer with lines enough queued
/// already does not wait (<see cref="MemberWriter"/>). Thread-safe.
/// </summary>
internal sealed class WriteGather(TimeSpan interval, TimeProvider clock) : IDisposable
{
    /// <summary>The process's gather: one millisecond, a small part of what a line takes to reach a member anyway.</summary>
    public static WriteGather Shared { get; } = new(TimeSpan.FromMilliseconds(1), TimeProvider.System);

    private readonly Lock _lock = new();
    private TaskCompletionSource? _next;
    private ITimer? _timer;

    /// <summary>Completes at the next tick (arming it if no writer waits yet).</summary>
    public Task NextAsync()
    {
        lock (_lock)
        {
            if (_next is null)
            {
                _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _timer ??= clock.CreateTimer(static state => ((WriteGather)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _timer.Change(interval, Timeout.InfiniteTimeSpan);
            }

            return _next.Task;
        }
    }

    public void Dispose() => _timer?.Dispose();

    private void Tick()
    {
        TaskCompletionSource? due;
        lock (_lock)
        {
            due = _next;
            _next = null;
        }

        due?.TrySetResult();
    }
}
