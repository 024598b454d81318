using System.Buffers.Binary;
using System.Text;

namespace Shout.Rooms.Bus;

/// <summary>What a bus message does at the receiving instance.</summary>
internal enum BusKind : byte
{
    /// <summary>Deliver the payload to the room's members.</summary>
    Line = 1,

    /// <summary>Deliver the payload (a leave notice), then forget the sender: it has gone.</summary>
    Final = 2,
}

/// <summary>
/// One line or notice on its way to the other instances: who sent it (instance and member) and its
/// place in that member's sequence, so a receiver delivers it once and in order, and counts gaps.
/// </summary>
/// <param name="Instance">The publishing instance.</param>
/// <param name="Sender">The member's id on that instance.</param>
/// <param name="Sequence">The number of the payload's last line in its sender's lines (1, 2, 3 ...).</param>
/// <param name="Kind">What to do with it.</param>
/// <param name="Room">The room it is for.</param>
/// <param name="Payload">The exact bytes the room's members get (e.g. <c>alice: HELLO\n</c>): one or more whole lines.</param>
internal readonly record struct BusMessage(Guid Instance, long Sender, long Sequence, BusKind Kind, string Room, ReadOnlyMemory<byte> Payload)
{
    private const byte Version = 1;
    private const int HeaderLength = 1 + 1 + 16 + 8 + 8 + 1;

    /// <summary>Version, kind, instance (16), sender (8), sequence (8), room length (1), room, payload.</summary>
    public byte[] Encode()
    {
        var roomLength = Encoding.UTF8.GetByteCount(Room);
        var bytes = new byte[HeaderLength + roomLength + Payload.Length];
        var span = bytes.AsSpan();
        span[0] = Version;
        span[1] = (byte)Kind;
        Instance.TryWriteBytes(span[2..18]);
        BinaryPrimitives.WriteInt64BigEndian(span[18..], Sender);
        BinaryPrimitives.WriteInt64BigEndian(span[26..], Sequence);
        span[34] = checked((byte)roomLength);
        Encoding.UTF8.GetBytes(Room, span[HeaderLength..]);
        Payload.Span.CopyTo(span[(HeaderLength + roomLength)..]);
        return bytes;
    }

    /// <summary>Decodes <see cref="Encode"/>'s bytes; false for anything else (another version, truncated).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> bytes, out BusMessage message)
    {
        message = default;
        var span = bytes.Span;
        if (span.Length < HeaderLength || span[0] != Version || span[1] is not ((byte)BusKind.Line or (byte)BusKind.Final))
        {
            return false;
        }

        var roomLength = span[34];
        if (span.Length < HeaderLength + roomLength)
        {
            return false;
        }

        message = new BusMessage(new Guid(span[2..18]), BinaryPrimitives.ReadInt64BigEndian(span[18..]),
            BinaryPrimitives.ReadInt64BigEndian(span[26..]), (BusKind)span[1],
            Encoding.UTF8.GetString(span.Slice(HeaderLength, roomLength)), bytes[(HeaderLength + roomLength)..]);
        return true;
    }
}
