using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;
using HdrHistogram;

namespace Shout.Load.Room;

/// <summary>
/// One member of a room run: its socket and its receive loop, which parses every line
/// (<c>S&lt;sender&gt; &lt;seq&gt; &lt;timestamp&gt;</c>, with <c>NICK: </c> in front on a Shout room) and
/// checks each sender's sequence: the next one is a delivery, a jump is a loss, an earlier one a
/// duplicate (or, if it fills a gap, a reorder). Sequence 0 is the readiness probe. Counts and
/// latencies are the member's own (no shared counter or lock per line, so the client costs as
/// little as it can per delivery); the run adds them up once the receive loops have ended.
/// </summary>
internal sealed class RoomBenchMember(int index, int room, Socket socket, RoomBenchTotals totals, int senders, bool shoutRooms)
{
    private readonly long[] _latencies = new long[256];
    private int _pendingLatencies;

    private readonly long[] _next = [.. Enumerable.Repeat(1L, senders)];
    private readonly bool[] _ready = new bool[senders];
    /// <summary>Gaps not yet filled, as ranges (a drop of a million lines is one entry, not a million).</summary>
    private List<(int Sender, long From, long To)>? _missing;
    private volatile bool _recording;
    private long _lastDelivery;

    /// <summary>Deliveries received once and in order (including those after a gap).</summary>
    public long Delivered { get; private set; }

    /// <summary>Deliveries that never arrived (so far).</summary>
    public long Lost { get; private set; }

    public long Duplicated { get; private set; }

    public long Reordered { get; private set; }

    /// <summary>Lines that were not a line of the run at all (e.g. two senders' bytes interleaved by a broker).</summary>
    public long Malformed { get; private set; }

    /// <summary>When this member's last delivery arrived (<see cref="Stopwatch"/> timestamp; 0 for none).</summary>
    public long LastDelivery => Interlocked.Read(ref _lastDelivery);

    /// <summary>Latencies are recorded from now on (after the readiness probes).</summary>
    public void StartRecording() => _recording = true;

    public int Index => index;

    public int Room => room;

    public Socket Socket => socket;

    /// <summary>What this member has received of <paramref name="sender"/>: the next sequence it expects.</summary>
    public long Next(int sender) => Volatile.Read(ref _next[sender]);

    public async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                var before = Delivered;
                filled += read;
                var start = 0;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start)) >= 0)
                {
                    Line(buffer.AsSpan(start, newline - start), now);
                    start = newline + 1;
                }

                if (Delivered != before)
                {
                    Interlocked.Exchange(ref _lastDelivery, now);
                }

                FlushLatencies();

                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
                if (filled == buffer.Length)
                {
                    filled = 0;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private void Line(ReadOnlySpan<byte> line, long now)
    {
        var colon = line.IndexOf(": "u8);
        if (shoutRooms && (colon < 0 || line.StartsWith("* "u8)))
        {
            // Its own line back, a notice or a command's answer: not a fan-out delivery. Nor is the
            // room's history given on joining (`* [N] NICK: TEXT`, a line of an earlier run): no
            // member's line starts with `* `, the server puts the sender's name in front.
            return;
        }

        var text = colon >= 0 ? line[(colon + 2)..] : line;
        if (text.Length < 2 || text[0] != 'S' || !Parse(text[1..], out var sender, out var sequence, out var sentAt) || sender >= _next.Length
            || sequence < 0 || sequence > totals.SentSoFar(sender))
        {
            // A number its sender has not sent yet is made of two lines' bytes, not a gap.
            // (On a Shout room, a line without a name was returned above: own lines and notices.)
            Malformed++;

            return;
        }

        if (sequence == 0)
        {
            if (!_ready[sender])
            {
                _ready[sender] = true;
                Interlocked.Increment(ref totals.Ready);
            }

            return;
        }

        var next = _next[sender];
        if (sequence == next)
        {
            Volatile.Write(ref _next[sender], next + 1);
            Delivered++;
            if (_recording)
            {
                if (_pendingLatencies == _latencies.Length)
                {
                    FlushLatencies();
                }

                _latencies[_pendingLatencies++] = (long)Stopwatch.GetElapsedTime(sentAt, now).TotalNanoseconds;
            }
        }
        else if (sequence > next)
        {
            (_missing ??= []).Add((sender, next, sequence - 1));

            Lost += sequence - next;
            Delivered++;
            Volatile.Write(ref _next[sender], sequence + 1);
        }
        else if (FillGap(sender, sequence))
        {
            Lost--;
            Reordered++;
        }
        else
        {
            Duplicated++;
        }
    }

    /// <summary>True when <paramref name="sequence"/> was missing (it arrives late): the gap shrinks around it.</summary>
    private bool FillGap(int sender, long sequence)
    {
        var i = _missing?.FindIndex(g => g.Sender == sender && g.From <= sequence && sequence <= g.To) ?? -1;
        if (i < 0)
        {
            return false;
        }

        var gap = _missing![i];
        _missing.RemoveAt(i);
        if (gap.From < sequence)
        {
            _missing.Add((sender, gap.From, sequence - 1));
        }

        if (sequence < gap.To)
        {
            _missing.Add((sender, sequence + 1, gap.To));
        }

        return true;
    }

    private void FlushLatencies()
    {
        if (_pendingLatencies > 0)
        {
            totals.Latency.Record(index, _latencies.AsSpan(0, _pendingLatencies));
            _pendingLatencies = 0;
        }
    }

    private static bool Parse(ReadOnlySpan<byte> text, out int sender, out long sequence, out long sentAt)
    {
        sequence = 0;
        sentAt = 0;
        if (!Utf8Parser.TryParse(text, out sender, out var used) || used >= text.Length || text[used] != ' ')
        {
            return false;
        }

        text = text[(used + 1)..];
        if (!Utf8Parser.TryParse(text, out sequence, out used) || used >= text.Length || text[used] != ' ')
        {
            return false;
        }

        return Utf8Parser.TryParse(text[(used + 1)..], out sentAt, out _);
    }
}

/// <summary>What every member of a run shares: the readiness count (updated with Interlocked) and the latencies.</summary>
internal sealed class RoomBenchTotals(int senders)
{
    private readonly long[] _sent = new long[senders];

    public long Ready;

    /// <summary>Lines sender <paramref name="sender"/> has handed to its socket (numbered 1 to this).</summary>
    public long SentSoFar(int sender) => Volatile.Read(ref _sent[sender]);

    /// <summary>The sender is about to send lines up to <paramref name="sequence"/>.</summary>
    public void Sending(int sender, long sequence) => Volatile.Write(ref _sent[sender], sequence);

    public RoomBenchLatency Latency { get; } = new();
}

/// <summary>
/// Fan-out latencies in nanoseconds, in a few striped histograms: a member records the latencies
/// of one read under one stripe's lock, so recording costs a lock per read, not an atomic per line,
/// and memory does not grow with the members. Thread-safe.
/// </summary>
internal sealed class RoomBenchLatency
{
    private const long MaxNanoseconds = 60L * 1_000_000_000;
    private readonly LongHistogram[] _stripes = [.. Enumerable.Range(0, 16).Select(_ => new LongHistogram(1, MaxNanoseconds, 3))];

    public void Record(int member, ReadOnlySpan<long> nanoseconds)
    {
        var stripe = _stripes[member % _stripes.Length];
        lock (stripe)
        {
            foreach (var value in nanoseconds)
            {
                stripe.RecordValue(Math.Clamp(value, 1, MaxNanoseconds));
            }
        }
    }

    /// <summary>Every latency recorded; call once recording has stopped.</summary>
    public HistogramBase Merged()
    {
        var all = new LongHistogram(1, MaxNanoseconds, 3);
        foreach (var stripe in _stripes)
        {
            lock (stripe)
            {
                all.Add(stripe);
            }
        }

        return all;
    }
}
