using System.Buffers.Binary;
using System.Text;
using Shout.Rooms.Bus;

namespace Shout.Rooms;

/// <summary>What a bus message does at the receiving instance.</summary>
internal enum BusKind : byte
{
    /// <summary>Deliver the payload to the room's members.</summary>
    Line = 1,

    /// <summary>Deliver the payload (a leave notice), then forget the sender: it has gone.</summary>
    Final = 2,
}

/// <summary>
/// What a bus message says. The receiving instance writes the line its members see from the names
/// (notices) or checks that every line carries the sender's name in front (<see cref="Said"/>), so
/// nothing on the bus can put a line without a name in front before a member.
/// </summary>
internal enum BusShape : byte
{
    /// <summary>Lines of a member, each <c>NICK: TEXT\n</c>.</summary>
    Said = 1,

    /// <summary><c>* NICK joined ROOM</c>.</summary>
    Joined = 2,

    /// <summary><c>* NICK left ROOM</c>.</summary>
    Left = 3,

    /// <summary><c>* OTHER is now NICK</c>.</summary>
    Renamed = 4,
}

/// <summary>
/// One line or notice on its way to the other instances: who sent it (instance, member id and
/// nickname) and its place in that member's sequence, so a receiver delivers it once and in order,
/// and counts gaps.
/// </summary>
/// <param name="Instance">The publishing instance.</param>
/// <param name="Sender">The member's id on that instance.</param>
/// <param name="Sequence">The number of the payload's last line in its sender's lines (1, 2, 3 ...).</param>
/// <param name="Kind">What to do with it.</param>
/// <param name="Shape">What it says.</param>
/// <param name="Room">The room it is for.</param>
/// <param name="Nick">The member's nickname (after a rename, the new one).</param>
/// <param name="Other">The nickname before a rename; empty otherwise.</param>
/// <param name="Payload">For <see cref="BusShape.Said"/>, the exact bytes the room's members get (<c>alice: HELLO\n</c>, one or more whole lines); empty for notices.</param>
internal readonly record struct BusMessage(Guid Instance, long Sender, long Sequence, BusKind Kind, BusShape Shape, string Room,
    string Nick, string Other, ReadOnlyMemory<byte> Payload)
{
    private const byte Version = 2;
    private const int FixedLength = 1 + 1 + 1 + 16 + 8 + 8;

    /// <summary>The lines it carries (a notice counts as one): what its loss and a merge are counted in.</summary>
    public int Lines => Math.Max(1, Payload.Span.Count((byte)'\n'));

    /// <summary>Version, kind, shape, instance (16), sender (8), sequence (8), room, nick, other (each a length byte and UTF-8), payload.</summary>
    public byte[] Encode()
    {
        var room = Encoding.UTF8.GetBytes(Room);
        var nick = Encoding.UTF8.GetBytes(Nick);
        var other = Encoding.UTF8.GetBytes(Other);
        var bytes = new byte[FixedLength + 3 + room.Length + nick.Length + other.Length + Payload.Length];
        var span = bytes.AsSpan();
        span[0] = Version;
        span[1] = (byte)Kind;
        span[2] = (byte)Shape;
        Instance.TryWriteBytes(span[3..19]);
        BinaryPrimitives.WriteInt64BigEndian(span[19..], Sender);
        BinaryPrimitives.WriteInt64BigEndian(span[27..], Sequence);
        var at = FixedLength;
        foreach (var name in new[] { room, nick, other })
        {
            span[at++] = checked((byte)name.Length);
            name.CopyTo(span[at..]);
            at += name.Length;
        }

        Payload.Span.CopyTo(span[at..]);
        return bytes;
    }

    /// <summary>
    /// Decodes <see cref="Encode"/>'s bytes; false for anything else (another version, an unknown
    /// kind or shape, truncated, names that are not UTF-8). Says nothing about whether the content is
    /// acceptable: <see cref="BusInbound"/> judges that.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> bytes, out BusMessage message)
    {
        message = default;
        var span = bytes.Span;
        if (span.Length < FixedLength + 3 || span[0] != Version || span[1] is not ((byte)BusKind.Line or (byte)BusKind.Final)
            || span[2] is < (byte)BusShape.Said or > (byte)BusShape.Renamed)
        {
            return false;
        }

        var at = FixedLength;
        var names = new string[3];
        for (var i = 0; i < names.Length; i++)
        {
            if (at >= span.Length || span.Length < at + 1 + span[at])
            {
                return false;
            }

            var name = span.Slice(at + 1, span[at]);
            if (!System.Text.Unicode.Utf8.IsValid(name))
            {
                return false;
            }

            names[i] = Encoding.UTF8.GetString(name);
            at += 1 + name.Length;
        }

        message = new BusMessage(new Guid(span[3..19]), BinaryPrimitives.ReadInt64BigEndian(span[19..]),
            BinaryPrimitives.ReadInt64BigEndian(span[27..]), (BusKind)span[1], (BusShape)span[2], names[0], names[1], names[2], bytes[at..]);
        return true;
    }
}
