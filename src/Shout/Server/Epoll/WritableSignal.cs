using System.Threading.Tasks.Sources;

namespace Shout.Server.Epoll;

/// <summary>
/// A reusable awaitable for "the socket can take more": one per connection, allocation-free per
/// wait. The continuation runs on the thread that sets it (the loop thread on EPOLLOUT). One waiter
/// at a time (the connection's send loop).
/// </summary>
internal sealed class WritableSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core;

    public ValueTask Task => new(this, _core.Version);

    public void Reset() => _core.Reset();

    public void Set() => _core.SetResult(true);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
