using System.Buffers;
using System.Globalization;
using System.Text;
using Shout.Text;

namespace Shout.Cli.Commands;

/// <summary>
/// Where <c>shout chat</c> is in its room, kept as docs/rooms.md ("History and resume") counts it:
/// the server's position line <c>* [at ROOM N EPOCH]</c> sets it, a history line <c>* [N] …</c>
/// moves it to N, and after it every room line the member receives counts one (another member's
/// line, the answer to one of its own plain lines); notices (<c>* …</c>) and the answers to its
/// commands (<c>OK</c>, <c>ERR</c>, <c>WHO</c>) do not. The answers come in the order the lines were
/// sent, so a command's answer is told from a plain line's by what was sent, not by how it looks.
/// Also keeps the nickname the server last confirmed, to take it back after a reconnect. The typing
/// thread tells it what was sent while the receiving one tells it what arrived: every call is under one lock.
/// </summary>
internal sealed class ChatPosition
{
    private readonly Queue<string?> _pending = new();
    private readonly Lock _gate = new();

    /// <summary>The room the position is in; null until the server said one.</summary>
    public string? Room { get; private set; }

    /// <summary>The number of the last room line received.</summary>
    public long Offset { get; private set; }

    /// <summary>The room's numbering; null when no position is known (not room mode, or history off).</summary>
    public string? Epoch { get; private set; }

    /// <summary>The nickname the server last confirmed (<c>OK nick NAME</c>).</summary>
    public string? Nick { get; private set; }

    /// <summary>True once a position is known: a dropped connection can be resumed.</summary>
    public bool Known => Epoch is not null;

    /// <summary>The line that resumes from here on a new connection.</summary>
    public string ResumeLine => string.Create(CultureInfo.InvariantCulture, $"/resume {Room} {Offset} {Epoch}");

    /// <summary>The line that ends the session (the server answers it with <c>QUIT</c>).</summary>
    public static bool IsQuit(string line) => line.Trim() == "quit";

    /// <summary>A line the user sent: its answer is expected in order (a command's, or its uppercase).</summary>
    public void Sent(string line)
    {
        lock (_gate)
        {
            Expect(line);
        }
    }

    /// <summary>Forgets the answers still expected (a new connection answers none of them).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _pending.Clear();
        }
    }

    /// <summary>Takes in one line received; true when it counts as a room line.</summary>
    public bool Observe(ReadOnlySpan<byte> bytes)
    {
        var line = Encoding.UTF8.GetString(bytes);
        lock (_gate)
        {
            return Take(line);
        }
    }

    private void Expect(string line)
    {
        var text = line.TrimEnd('\r');
        if (IsQuit(text))
        {
            return;
        }

        _pending.Enqueue(text.StartsWith('/') ? null : Upper(text));
    }

    private bool Take(string line)
    {
        if (line.StartsWith("* [", StringComparison.Ordinal))
        {
            Place(line);
            return false;
        }

        if (_pending.TryPeek(out var expected))
        {
            if (expected is not null && line == expected)
            {
                // The answer to its own plain line: a room line like any other.
                _pending.Dequeue();
                return Count();
            }

            if (expected is null && (line.StartsWith("OK ", StringComparison.Ordinal) || line.StartsWith("ERR ", StringComparison.Ordinal)
                || line.StartsWith("WHO", StringComparison.Ordinal)))
            {
                _pending.Dequeue();
                Confirmed(line);
                return false;
            }
        }

        if (line.StartsWith("* ", StringComparison.Ordinal))
        {
            return false;
        }

        return Count();
    }

    private bool Count()
    {
        if (Known)
        {
            Offset++;
        }

        return Known;
    }

    private void Confirmed(string line)
    {
        if (line.StartsWith("OK nick ", StringComparison.Ordinal))
        {
            Nick = line["OK nick ".Length..];
        }
        else if (line.StartsWith("OK room ", StringComparison.Ordinal))
        {
            // Another room: its numbering comes with its position line.
            Room = line["OK room ".Length..];
            Epoch = null;
        }
    }

    /// <summary><c>* [at ROOM N EPOCH]</c> or <c>* [N] LINE</c>.</summary>
    private void Place(string line)
    {
        var close = line.IndexOf(']', StringComparison.Ordinal);
        if (close < 0)
        {
            return;
        }

        var inside = line[3..close];
        var words = inside.Split(' ');
        if (words is ["at", var room, var offset, var epoch] && long.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out var at))
        {
            (Room, Offset, Epoch) = (room, at, epoch);
        }
        else if (words is [var number] && long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && Known)
        {
            Offset = n;
        }
    }

    /// <summary>The server's answer to a plain line: its uppercase, by the server's own rule.</summary>
    private static string Upper(string text)
    {
        var source = Encoding.UTF8.GetBytes(text);
        var destination = new byte[ShoutCase.MaxOutputLength(source.Length)];
        ShoutCase.ToUpper(source, destination, isFinalBlock: true, out _, out var written);
        return Encoding.UTF8.GetString(destination, 0, written);
    }
}
