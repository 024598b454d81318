namespace Shout.Rooms.Bus;

/// <summary>
/// The publishing side of exactly once: each sender's messages go to the room stream one at a time
/// and in order, the next only once the stream acknowledged the one before, so no later message of
/// a sender can be stored before an earlier one, whatever the NATS client sends again after a
/// reconnect; different senders' messages wait for their acknowledgements side by side. What a
/// sender said while its message waited goes out as one message (its lines keep their numbers, the
/// message numbers its last), up to <see cref="MaxMerged"/> bytes and <see cref="RoomBatch.MaxLines"/>
/// lines (what a receiver takes in one message). Bounded: at most
/// <c>maxWaiting</c> messages wait at once, and <see cref="AddAsync"/> waits for room. One caller
/// adds; the senders' publishers run beside it.
/// </summary>
internal sealed class StoredOutbox(Func<BusMessage, Task> publish, int maxWaiting = 4096) : IDisposable
{
    /// <summary>Most payload bytes one merged message carries.</summary>
    internal const int MaxMerged = 64 * 1024;

    private readonly Dictionary<(Guid Instance, long Sender), Queue<BusMessage>> _senders = [];
    private readonly SemaphoreSlim _room = new(maxWaiting, maxWaiting);
    private readonly Lock _lock = new();
    private readonly List<Task> _publishers = [];

    private long _published;

    /// <summary>Messages published so far (after merging).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Queues <paramref name="message"/> behind its sender's earlier ones; waits while the outbox is full.</summary>
    public async ValueTask AddAsync(BusMessage message)
    {
        await _room.WaitAsync();
        var key = (message.Instance, message.Sender);
        bool start;
        lock (_lock)
        {
            start = !_senders.TryGetValue(key, out var waiting);
            if (start)
            {
                waiting = new Queue<BusMessage>();
                _senders[key] = waiting;
            }

            waiting!.Enqueue(message);
        }

        if (start)
        {
            if (_publishers.Count >= 256)
            {
                _publishers.RemoveAll(t => t.IsCompleted);
            }

            _publishers.Add(Task.Run(() => PublishSenderAsync(key)));
        }
    }

    /// <summary>Completes once everything added has been published (or given up by the publish).</summary>
    public Task CompletedAsync() => Task.WhenAll(_publishers);

    public void Dispose() => _room.Dispose();

    /// <summary>
    /// <paramref name="next"/> and then <paramref name="later"/> as one message, when both are lines a
    /// member said in the same room under the same name, numbered one after the other, and not too
    /// long together (bytes or lines); false otherwise (a notice, a rename, a gap).
    /// </summary>
    internal static bool TryMerge(in BusMessage next, in BusMessage later, out BusMessage merged)
    {
        merged = next;
        if (next.Kind != BusKind.Line || later.Kind != BusKind.Line || next.Shape != BusShape.Said || later.Shape != BusShape.Said
            || next.Room != later.Room || next.Nick != later.Nick || later.Sequence - later.Lines != next.Sequence
            || next.Payload.Length + later.Payload.Length > MaxMerged || next.Lines + later.Lines > RoomBatch.MaxLines)
        {
            return false;
        }

        var payload = new byte[next.Payload.Length + later.Payload.Length];
        next.Payload.Span.CopyTo(payload);
        later.Payload.Span.CopyTo(payload.AsSpan(next.Payload.Length));
        merged = next with { Sequence = later.Sequence, Payload = payload };
        return true;
    }

    // One sender's publisher: one message in flight, what waited behind it merged into the next.
    private async Task PublishSenderAsync((Guid, long) key)
    {
        while (true)
        {
            BusMessage next;
            var taken = 1;
            lock (_lock)
            {
                var waiting = _senders[key];
                if (waiting.Count == 0)
                {
                    _senders.Remove(key);
                    return;
                }

                next = waiting.Dequeue();
                while (waiting.Count > 0 && TryMerge(next, waiting.Peek(), out var merged))
                {
                    waiting.Dequeue();
                    next = merged;
                    taken++;
                }
            }

            try
            {
                await publish(next);
                Interlocked.Increment(ref _published);
            }
            finally
            {
                _room.Release(taken);
            }
        }
    }
}
