using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Shout.Transports.Epoll;

/// <summary>Something registered in an <see cref="EpollLoop"/>: told the events of its descriptor, on the loop's thread.</summary>
internal interface IEpollHandler
{
    /// <summary>
    /// The token of the handler's registration, set by <see cref="EpollLoop.Register"/> before the
    /// handler is published in its slot. The handler keeps it, so a slot holds only the handler: a
    /// separate registration object was 32 bytes more per idle connection.
    /// </summary>
    long EpollToken { get; set; }

    void OnEvents(uint events);
}

/// <summary>
/// One event-loop thread with its own epoll set. Each iteration waits for events, hands each to its
/// handler (found by the registration's token, stored as the event's data), then runs the work
/// other code scheduled on it (a connection's shutdown completes its waiting read there). Thread-safe: any thread may schedule work
/// or register a descriptor; everything a handler does runs on this loop's thread.
/// </summary>
internal sealed partial class EpollLoop : IDisposable
{
    private const int MaxEvents = 256;

    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _work = new();

    // This loop's registrations, by token. A token is the slot's index in its low 32 bits and the
    // slot's generation (never 0) in its high 32 bits, so a token is never reused (0 is the wake
    // eventfd): an event that outlives its registration finds another generation, or nobody, never
    // another connection. A GCHandle as the event's data did not have that property: a freed
    // handle's slot is reused by the next GCHandle.Alloc anywhere in the process, and an event for a
    // descriptor whose file outlived its close (a forked child holds it until exec; epoll drops a
    // registration only when the file itself is released) then ran some other connection's Receive,
    // on this thread, racing that connection's own loop on the same input. An array indexed by the
    // token is read once per event with no hashing (a dictionary lookup was 2-4 % of the server's
    // CPU at 1,000 connections); registering and releasing, once per connection, take the lock.
    private readonly Lock _slotsGate = new();
    private readonly Stack<int> _freeSlots = new();
    private IEpollHandler?[] _slots = new IEpollHandler?[64];
    private uint[] _generations = new uint[64];
    private int _usedSlots;
    private int _registered;
    private readonly Thread _thread;
    private readonly int _wake;
    private readonly ILogger _logger;
    private int _wakePending;
    private volatile bool _stopping;

    public EpollLoop(int index, ILogger logger)
    {
        _logger = logger;
        Epoll = EpollNative.CreateEpoll();
        _wake = EpollNative.CreateEventFd();
        _ = EpollNative.Add(Epoll, _wake, EpollNative.EpollIn, 0);
        _thread = new Thread(Run) { IsBackground = true, Name = $"shout-epoll-{index}" };
        _thread.UnsafeStart();
    }

    /// <summary>The epoll descriptor.</summary>
    public int Epoll { get; }

    public bool IsCurrent => Thread.CurrentThread == _thread;

    /// <summary>Handlers registered and not yet released (a leak shows here).</summary>
    internal int Registered => Volatile.Read(ref _registered);

    /// <summary>Adds a descriptor for <paramref name="handler"/> (its <paramref name="events"/>); keep the token and give it back with <see cref="Release"/>.</summary>
    /// <param name="fd">The descriptor.</param>
    /// <param name="events">The epoll events to report.</param>
    /// <param name="handler">Told the events, on this loop's thread.</param>
    /// <param name="token">The registration's token (never 0, never reused), or 0 when it failed.</param>
    /// <returns>0, or the errno of <c>epoll_ctl</c>.</returns>
    public int Register(int fd, uint events, IEpollHandler handler, out long token)
    {
        lock (_slotsGate)
        {
            if (!_freeSlots.TryPop(out var slot))
            {
                slot = _usedSlots++;
                if (slot == _slots.Length)
                {
                    Array.Resize(ref _generations, slot * 2);
                    var larger = new IEpollHandler?[slot * 2];
                    _slots.CopyTo(larger, 0);
                    Volatile.Write(ref _slots, larger);
                }
            }

            var generation = ++_generations[slot];
            if (generation == 0)
            {
                generation = ++_generations[slot];
            }

            token = ((long)generation << 32) | (uint)slot;
            handler.EpollToken = token;
            Volatile.Write(ref _slots[slot], handler);
            _registered++;
        }

        var error = EpollNative.Add(Epoll, fd, events, (nint)token);
        if (error != 0)
        {
            Release(token);
            token = 0;
        }

        return error;
    }

    /// <summary>
    /// Forgets a registration, from any thread. An event for it still in the batch the loop is
    /// handling, or one the kernel reports later because the file outlived its close, is dropped.
    /// </summary>
    public void Release(long token)
    {
        lock (_slotsGate)
        {
            var slot = (int)(uint)token;
            if (slot < _usedSlots && _slots[slot]?.EpollToken == token)
            {
                Volatile.Write(ref _slots[slot], null);
                _freeSlots.Push(slot);
                _registered--;
            }
        }
    }

    /// <summary>Logs a connection's unexpected failure (the connection ends; the loop goes on).</summary>
    public void ConnectionFailed(string connectionId, Exception exception) => Log.ConnectionFailed(_logger, connectionId, exception);

    public void Schedule(Action<object?> action, object? state)
    {
        _work.Enqueue((action, state));
        if (!IsCurrent && Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            EpollNative.Signal(_wake);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        EpollNative.Signal(_wake);
        if (!IsCurrent)
        {
            _thread.Join();
        }

        EpollNative.CloseFd(_wake);
        EpollNative.CloseFd(Epoll);
    }

    private void Run()
    {
        Span<byte> events = new byte[MaxEvents * EpollNative.EventSize];
        while (!_stopping)
        {
            var count = EpollNative.Wait(Epoll, events, _work.IsEmpty ? -1 : 0);
            for (var i = 0; i < count; i++)
            {
                var (flags, data) = EpollNative.Read(events, i);
                if (data == 0)
                {
                    EpollNative.Drain(_wake);
                    Volatile.Write(ref _wakePending, 0);
                    continue;
                }

                Dispatch(flags, data);
            }

            RunWork();
        }
    }

    private void Dispatch(uint flags, nint data)
    {
        var slots = Volatile.Read(ref _slots);
        var slot = (uint)(long)data;
        if (slot >= (uint)slots.Length || Volatile.Read(ref slots[slot]) is not { } handler || handler.EpollToken != data)
        {
            // Released already: the descriptor left after this batch was taken, or its file outlived the close.
            return;
        }

        try
        {
            handler.OnEvents(flags);
        }
        catch (Exception e)
        {
            // A handler's fault ends that connection, never the loop every other connection runs on.
            Log.HandlerFailed(_logger, e);
        }
    }

    private void RunWork()
    {
        // Only what is queued now: work that schedules more must not keep the loop from its sockets.
        for (var n = _work.Count; n > 0 && _work.TryDequeue(out var item); n--)
        {
            try
            {
                item.Action(item.State);
            }
            catch (Exception e)
            {
                Log.HandlerFailed(_logger, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.EpollHandlerFailed, LogLevel.Error, "epoll transport: unexpected error on the event loop", EventName = "EpollHandlerFailed")]
        public static partial void HandlerFailed(ILogger logger, Exception exception);

        [LoggerMessage(LogEvents.EpollConnectionFailed, LogLevel.Error, "epoll transport: connection {ConnectionId} failed unexpectedly", EventName = "EpollConnectionFailed")]
        public static partial void ConnectionFailed(ILogger logger, string connectionId, Exception exception);
    }
}
