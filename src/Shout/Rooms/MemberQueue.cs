using System.Threading.Tasks.Sources;

namespace Shout.Rooms;

/// <summary>
/// A member's bounded queue of outgoing lines, counted in lines, not entries: an entry is a run of
/// whole lines (all the lines of one sender's read, formatted once and shared by every member of the
/// room), so a fan-out costs one entry per member per read instead of one per line. When an entry
/// does not fit whole, the lines that fit are kept and the rest are cut at a line boundary, so the
/// bound and the slow-member policy work on lines exactly. One reader (the transport's writer) waits
/// without allocating; any thread may add. Thread-safe.
/// </summary>
internal sealed class MemberQueue : IValueTaskSource<bool>
{
    private readonly Queue<Entry> _entries = new();
    private readonly Lock _lock = new();
    private readonly int _capacity;

    // The writer resumes on the thread pool, not on the delivering thread: running every member's
    // writer inline in the sender's fan-out loop (ncat's one-thread model) was measured at about
    // 1.3-1.5x the server CPU per delivery (docs/benchmarks.md, rooms).
    private ManualResetValueTaskSourceCore<bool> _ready = new() { RunContinuationsAsynchronously = true };
    private bool _readerWaiting;
    private TaskCompletionSource<bool>? _space;
    private int _lines;

    /// <summary>The rest of the member's own answer, waiting for room; the reader moves it in first.</summary>
    private Entry? _pending;

    /// <summary>Lines dropped (drop policy) from the front of the oldest entry, cut off when it is taken.</summary>
    private int _headSkip;
    private bool _completed;

    /// <param name="capacity">Most lines queued at once; at least 1.</param>
    public MemberQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>True once <see cref="Complete"/> was called: nothing more is added.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed);

    /// <summary>Lines queued now.</summary>
    public int Lines => Volatile.Read(ref _lines);

    /// <summary>
    /// Adds the first of <paramref name="count"/> lines that fit; returns how many it added (0 when
    /// full, completed, or while the member's own answer waits for room). Never waits.
    /// </summary>
    public int TryAdd(ReadOnlyMemory<byte> lines, int count) => Add(lines, count, whole: false, out _);

    /// <summary>
    /// Adds all <paramref name="count"/> lines if they fit whole now; false (and nothing added) when
    /// they do not, when completed, or while an answer waits for room. Never waits.
    /// </summary>
    public bool TryAddWhole(ReadOnlyMemory<byte> lines, int count)
    {
        Add(lines, count, whole: true, out var added);
        return added;
    }

    /// <summary>
    /// <see cref="TryAdd"/> and <see cref="TryAddWhole"/>: the lines that fit (all or nothing when
    /// <paramref name="whole"/>); <paramref name="added"/> says whether the queue took them. Never waits.
    /// </summary>
    private int Add(ReadOnlyMemory<byte> lines, int count, bool whole, out bool added)
    {
        bool wake;
        int taken;
        lock (_lock)
        {
            added = !_completed && _pending is null && _lines < _capacity && (!whole || _lines + count <= _capacity);
            if (!added)
            {
                return 0;
            }

            taken = TakeIn(ref lines, ref count);
            wake = taken > 0 && _readerWaiting;
            _readerWaiting &= !wake;
        }

        if (wake)
        {
            _ready.SetResult(true);
        }

        return taken;
    }

    /// <summary>
    /// Adds all <paramref name="count"/> lines, dropping the oldest queued lines to make room (and, if
    /// there are more than the capacity, the first of the new ones); returns how many lines were
    /// dropped. Adds nothing once completed (and returns 0).
    /// </summary>
    public int AddDroppingOldest(ReadOnlyMemory<byte> lines, int count)
    {
        bool wake;
        var dropped = 0;
        lock (_lock)
        {
            if (_completed)
            {
                return 0;
            }

            if (count > _capacity)
            {
                dropped = count - _capacity;
                lines = lines[Offset(lines.Span, dropped)..];
                count = _capacity;
            }

            while (_lines + count > _capacity)
            {
                var oldest = _entries.Peek();
                var left = oldest.Lines - _headSkip;
                var excess = _lines + count - _capacity;
                if (left <= excess)
                {
                    _entries.Dequeue();
                    _headSkip = 0;
                    _lines -= left;
                    dropped += left;
                }
                else
                {
                    // Keep the newest lines of the oldest entry: its first ones are cut off when it is taken.
                    _headSkip += excess;
                    _lines -= excess;
                    dropped += excess;
                }
            }

            _entries.Enqueue(new Entry(lines, count));
            _lines += count;
            wake = _readerWaiting;
            _readerWaiting = false;
        }

        if (wake)
        {
            _ready.SetResult(true);
        }

        return dropped;
    }

    /// <summary>
    /// Adds the member's own answer: null when it went in whole at once; otherwise a task that is
    /// true once the rest went in (the reader moves it in before anything else as it makes room),
    /// false when the queue was completed first. One answer at a time.
    /// </summary>
    public Task<bool>? AddAnswer(ReadOnlyMemory<byte> lines, int count)
    {
        Task<bool>? waiting = null;
        var wake = false;
        lock (_lock)
        {
            if (_completed)
            {
                return Task.FromResult(false);
            }

            var taken = TakeIn(ref lines, ref count);
            if (taken > 0 && _readerWaiting)
            {
                _readerWaiting = false;
                wake = true;
            }

            if (count > 0)
            {
                _pending = new Entry(lines, count);
                _space = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                waiting = _space.Task;
            }
        }

        if (wake)
        {
            _ready.SetResult(true);
        }

        return waiting;
    }

    /// <summary>
    /// The one reader: true when there is something to take, false when the queue is completed and
    /// empty. Only one call may be pending at a time.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_lock)
        {
            if (_entries.Count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            _ready.Reset();
            _readerWaiting = true;
            return new ValueTask<bool>(this, _ready.Version);
        }
    }

    /// <summary>The one reader: takes the oldest run of lines (each <c>\n</c>-terminated but perhaps the last).</summary>
    public bool TryTake(out ReadOnlyMemory<byte> lines)
    {
        TaskCompletionSource<bool>? space = null;
        lock (_lock)
        {
            if (!_entries.TryDequeue(out var entry))
            {
                lines = default;
                return false;
            }

            lines = _headSkip == 0 ? entry.Bytes : entry.Bytes[Offset(entry.Bytes.Span, _headSkip)..];
            _lines -= entry.Lines - _headSkip;
            _headSkip = 0;
            if (_pending is { } pending)
            {
                var rest = pending.Bytes;
                var count = pending.Lines;
                TakeIn(ref rest, ref count);
                if (count == 0)
                {
                    _pending = null;
                    space = _space;
                    _space = null;
                }
                else
                {
                    _pending = new Entry(rest, count);
                }
            }
        }

        space?.TrySetResult(true);
        return true;
    }

    /// <summary>Nothing more is added; with <paramref name="discard"/> what is queued is forgotten too.</summary>
    public void Complete(bool discard)
    {
        bool wake;
        bool any;
        TaskCompletionSource<bool>? space;
        lock (_lock)
        {
            _completed = true;
            _pending = null;
            if (discard)
            {
                _entries.Clear();
                _lines = 0;
                _headSkip = 0;
            }

            any = _entries.Count > 0;
            wake = _readerWaiting;
            _readerWaiting = false;
            space = _space;
            _space = null;
        }

        space?.TrySetResult(false);
        if (wake)
        {
            _ready.SetResult(any);
        }
    }

    /// <summary>Under the lock: queues the first lines of <paramref name="lines"/> that fit; the rest is left in the arguments.</summary>
    private int TakeIn(ref ReadOnlyMemory<byte> lines, ref int count)
    {
        var taken = Math.Min(count, _capacity - _lines);
        if (taken <= 0)
        {
            return 0;
        }

        var end = taken == count ? lines.Length : Offset(lines.Span, taken);
        _entries.Enqueue(new Entry(lines[..end], taken));
        _lines += taken;
        lines = lines[end..];
        count -= taken;
        return taken;
    }

    /// <summary>Where the first <paramref name="lines"/> lines of <paramref name="bytes"/> end.</summary>
    public static int Offset(ReadOnlySpan<byte> bytes, int lines)
    {
        var offset = 0;
        for (var n = 0; n < lines; n++)
        {
            var newline = bytes[offset..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return bytes.Length;
            }

            offset += newline + 1;
        }

        return offset;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _ready.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _ready.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _ready.OnCompleted(continuation, state, token, flags);

    private readonly record struct Entry(ReadOnlyMemory<byte> Bytes, int Lines);
}
