using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;
using HdrHistogram;

namespace Shout.Load.Room;

/// <summary>
/// One member of a room run: its socket and its receive loop, which parses every line
/// (<c>S&lt;sender&gt; &lt;seq&gt; &lt;timestamp&gt;</c>, with <c>NICK: </c> in front on a Shout room) and
/// checks each sender's sequence: the next one is a delivery, a jump is a loss, an earlier one a
/// duplicate (or, if it fills a gap, a reorder). Sequence 0 is the readiness probe.
/// </summary>
internal sealed class RoomBenchMember(int index, int room, Socket socket, RoomBenchTotals totals, int senders, bool shoutRooms)
{
    private readonly long[] _next = [.. Enumerable.Repeat(1L, senders)];
    private readonly bool[] _ready = new bool[senders];
    private HashSet<(int, long)>? _missing;

    public int Index => index;

    public int Room => room;

    public Socket Socket => socket;

    /// <summary>What this member has received of <paramref name="sender"/>: the next sequence it expects.</summary>
    public long Next(int sender) => Volatile.Read(ref _next[sender]);

    public async Task ReceiveAsync(Recorder latency, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
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
                filled += read;
                var start = 0;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start)) >= 0)
                {
                    Line(buffer.AsSpan(start, newline - start), now, latency);
                    start = newline + 1;
                }

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

    private void Line(ReadOnlySpan<byte> line, long now, Recorder latency)
    {
        var colon = line.IndexOf(": "u8);
        if (shoutRooms && colon < 0)
        {
            // Its own line back, a notice or a command's answer: not a fan-out delivery.
            return;
        }

        var text = colon >= 0 ? line[(colon + 2)..] : line;
        if (text.Length < 2 || text[0] != 'S' || !Parse(text[1..], out var sender, out var sequence, out var sentAt) || sender >= _next.Length)
        {
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
            Interlocked.Increment(ref totals.Delivered);
            latency.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(sentAt, now).TotalNanoseconds));
        }
        else if (sequence > next)
        {
            _missing ??= [];
            for (var s = next; s < sequence; s++)
            {
                _missing.Add((sender, s));
            }

            Interlocked.Add(ref totals.Lost, sequence - next);
            Interlocked.Increment(ref totals.Delivered);
            Volatile.Write(ref _next[sender], sequence + 1);
        }
        else if (_missing?.Remove((sender, sequence)) == true)
        {
            Interlocked.Decrement(ref totals.Lost);
            Interlocked.Increment(ref totals.Reordered);
        }
        else
        {
            Interlocked.Increment(ref totals.Duplicated);
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

/// <summary>Counts shared by every member of a run (fields: updated with Interlocked).</summary>
internal sealed class RoomBenchTotals
{
    public long Ready;
    public long Delivered;
    public long Lost;
    public long Duplicated;
    public long Reordered;
}
