using System.Text;

namespace Shout.Client;

/// <summary>
/// The client's half of room mode's join over UDP, so <c>shout send</c> and <c>shout chat</c> need no
/// flag for it. A room-mode server answers a source that has not confirmed its address with the line
/// to send back, <c>/join ROOM TOKEN</c> (or just <c>/join</c> when the datagram was too small to earn
/// more: the server sends an unconfirmed address at most 3× what it received). This answers both: the
/// challenge goes back with the datagrams sent since the server last answered anything (they were not
/// taken), and the server's <c>OK room ROOM</c> for it and the greeting after it are not shown. Neither can come from an
/// uppercasing server, whose replies have no lowercase ASCII letter, so a stream-mode server never
/// sets this off. Thread-safe (the chat's reader and writer both use it).
/// </summary>
internal sealed class DatagramRoomJoin
{
    /// <summary>Most datagrams, and bytes, carried with a challenge's answer.</summary>
    private const int MaxPending = 32;

    private const int MaxPendingBytes = 16 * 1024;

    private static readonly byte[] Hint = "/join"u8.ToArray();
    private static readonly byte[] HintAnswer = "/join lobby"u8.ToArray();

    private readonly Queue<byte[]> _pending = new();
    private readonly Lock _gate = new();
    private int _pendingBytes;
    private string? _expectedOk;
    private bool _expectGreeting;
    private string? _lastAnswered;
    private long _lastAnsweredAt;
    private bool _heardSinceAnswer = true;

    // A reply before any challenge: the server answers this address without a join (stream or line
    // mode), so the datagrams sent need not be kept (the load generator sends many through here).
    private volatile bool _plainServer;

    /// <summary>What a received datagram is to the conversation.</summary>
    public enum Step
    {
        /// <summary>A reply or a room line: show it.</summary>
        Show,

        /// <summary>Part of the join: send the answer, show nothing.</summary>
        Answer,

        /// <summary>Part of the join, nothing to send: show nothing.</summary>
        Hide,
    }

    /// <summary>True once a challenge was answered: the server is in room mode, each datagram from it one line.</summary>
    public bool Joined { get; private set; }

    /// <summary>Remembers a datagram the user sent, until the server answers something.</summary>
    public void Sent(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty || _plainServer)
        {
            return;
        }

        lock (_gate)
        {
            _pending.Enqueue(datagram.ToArray());
            _pendingBytes += datagram.Length;
            while (_pending.Count > MaxPending || _pendingBytes > MaxPendingBytes)
            {
                _pendingBytes -= _pending.Dequeue().Length;
            }
        }
    }

    /// <summary>Reads a received datagram; <paramref name="answer"/> is what to send back for <see cref="Step.Answer"/>.</summary>
    public Step Receive(ReadOnlySpan<byte> datagram, out byte[]? answer)
    {
        answer = null;
        lock (_gate)
        {
            if (datagram.SequenceEqual(Hint))
            {
                answer = HintAnswer;
                return Step.Answer;
            }

            if (IsChallenge(datagram, out var room))
            {
                var challenge = Encoding.ASCII.GetString(datagram);
                var now = Environment.TickCount64;
                if (challenge == _lastAnswered && !_heardSinceAnswer && now - _lastAnsweredAt < 1000)
                {
                    // The same challenge again with nothing between: an echo of our own answer, not a server asking.
                    return Step.Hide;
                }

                (_lastAnswered, _lastAnsweredAt, _heardSinceAnswer) = (challenge, now, false);
                _expectedOk = "OK room " + room;
                Joined = true;
                answer = Answer(datagram);
                return Step.Answer;
            }

            _heardSinceAnswer = true;
            if (_expectedOk is not null && Encoding.UTF8.GetByteCount(_expectedOk) == datagram.Length && Encoding.UTF8.GetString(datagram) == _expectedOk)
            {
                _expectedOk = null;
                _expectGreeting = true;
                return Step.Hide;
            }

            // The greeting that follows the OK room is part of the join too: a datagram client counts
            // one reply per datagram sent (send -u prints the answer to its line, not the greeting).
            // Lowercase, so no uppercasing server sends it.
            if (_expectGreeting && datagram.StartsWith("* you are "u8))
            {
                _expectGreeting = false;
                return Step.Hide;
            }

            _expectGreeting = false;

            _pending.Clear();
            _pendingBytes = 0;
            _plainServer = !Joined;
            return Step.Show;
        }
    }

    /// <summary>The challenge, then each pending datagram as its lines.</summary>
    private byte[] Answer(ReadOnlySpan<byte> challenge)
    {
        using var answer = new MemoryStream(challenge.Length + 1 + _pendingBytes + _pending.Count);
        answer.Write(challenge);
        foreach (var datagram in _pending)
        {
            answer.WriteByte((byte)'\n');
            answer.Write(datagram is [.., (byte)'\n'] ? datagram.AsSpan(0, datagram.Length - 1) : datagram);
        }

        _pending.Clear();
        _pendingBytes = 0;
        return answer.ToArray();
    }

    /// <summary><c>/join ROOM TOKEN</c>: ROOM 1-32 letters, digits, _ or -; TOKEN 8 of a-z and 2-7.</summary>
    private static bool IsChallenge(ReadOnlySpan<byte> datagram, out string room)
    {
        room = "";
        if (!datagram.StartsWith("/join "u8))
        {
            return false;
        }

        var rest = datagram[6..];
        var space = rest.IndexOf((byte)' ');
        if (space is < 1 or > 32 || rest.Length - space - 1 != 8)
        {
            return false;
        }

        foreach (var b in rest[..space])
        {
            if (!char.IsAsciiLetterOrDigit((char)b) && b is not ((byte)'_' or (byte)'-'))
            {
                return false;
            }
        }

        foreach (var b in rest[(space + 1)..])
        {
            if (b is not ((>= (byte)'a' and <= (byte)'z') or (>= (byte)'2' and <= (byte)'7')))
            {
                return false;
            }
        }

        room = Encoding.ASCII.GetString(rest[..space]);
        return true;
    }
}
