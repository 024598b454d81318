using System.Text;
using Shout.Rooms;
using Shout.Rooms.Bus;

namespace Shout.Tests.Rooms.Bus;

public sealed class BusTests
{
    [Fact]
    public void A_message_survives_encoding_whole()
    {
        var instance = Guid.NewGuid();
        var message = new BusMessage(instance, 42, 7, BusKind.Line, BusShape.Said, "lobby", "alice", "", Encoding.UTF8.GetBytes("alice: HI\n"));
        Assert.True(BusMessage.TryDecode(message.Encode(), out var decoded));
        Assert.Equal(instance, decoded.Instance);
        Assert.Equal(42, decoded.Sender);
        Assert.Equal(7, decoded.Sequence);
        Assert.Equal(BusKind.Line, decoded.Kind);
        Assert.Equal(BusShape.Said, decoded.Shape);
        Assert.Equal("lobby", decoded.Room);
        Assert.Equal("alice", decoded.Nick);
        Assert.Equal("", decoded.Other);
        Assert.Equal("alice: HI\n", Encoding.UTF8.GetString(decoded.Payload.Span));

        var renamed = new BusMessage(instance, 42, 8, BusKind.Line, BusShape.Renamed, "lobby", "al", "alice", default);
        Assert.True(BusMessage.TryDecode(renamed.Encode(), out decoded));
        Assert.Equal(("al", "alice", 0), (decoded.Nick, decoded.Other, decoded.Payload.Length));
    }

    [Fact]
    public void Truncated_or_foreign_bytes_are_refused()
    {
        var bytes = new BusMessage(Guid.NewGuid(), 1, 1, BusKind.Line, BusShape.Said, "lobby", "bob", "", "bob: X\n"u8.ToArray()).Encode();
        var header = 35 + 1 + 5 + 1 + 3 + 1;
        for (var length = 0; length < header; length++)
        {
            Assert.False(BusMessage.TryDecode(bytes.AsMemory(0, length), out _), $"{length} bytes decoded");
        }

        // The first version (a formatted payload, no names) is not this one.
        var old = (byte[])bytes.Clone();
        old[0] = 1;
        Assert.False(BusMessage.TryDecode(old, out _));
        var shape = (byte[])bytes.Clone();
        shape[2] = 9;
        Assert.False(BusMessage.TryDecode(shape, out _));
    }

    [Fact]
    public void Each_sender_is_delivered_once_in_order_and_gaps_are_counted()
    {
        var sequences = new SenderSequences();
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();

        // The first message seen from a sender counts no gap (the instance may have started late).
        Assert.True(sequences.Accept(a, 1, 57, out var missed));
        Assert.Equal(0, missed);
        Assert.True(sequences.Accept(a, 1, 58, out missed));
        Assert.False(sequences.Accept(a, 1, 58, out _));
        Assert.False(sequences.Accept(a, 1, 12, out _));
        Assert.True(sequences.Accept(a, 1, 61, out missed));
        Assert.Equal(2, missed);

        // Another member, or the same member id on another instance, is another sender.
        Assert.True(sequences.Accept(a, 2, 1, out _));
        Assert.True(sequences.Accept(b, 1, 1, out _));
        Assert.Equal(3, sequences.Count);
        sequences.Forget(a, 1);
        Assert.True(sequences.Accept(a, 1, 1, out missed));
        Assert.Equal(0, missed);
    }

    [Fact]
    public void A_message_of_several_lines_numbers_its_last_and_gaps_are_counted_in_lines()
    {
        var sequences = new SenderSequences();
        var a = Guid.NewGuid();
        Assert.True(sequences.Accept(a, 1, 5, out var missed, lines: 5));
        Assert.Equal(0, missed);

        // Lines 6 to 7 never came; this message holds 8 to 10.
        Assert.True(sequences.Accept(a, 1, 10, out missed, lines: 3));
        Assert.Equal(2, missed);
        Assert.False(sequences.Accept(a, 1, 10, out _, lines: 3));
        Assert.True(sequences.Accept(a, 1, 14, out missed, lines: 4));
        Assert.Equal(0, missed);
    }

    [Theory]
    [InlineData("alice", true)]
    [InlineData("a_b-C9", true)]
    [InlineData("", false)]
    [InlineData("two words", false)]
    [InlineData("dot.ted", false)]
    [InlineData("wild*", false)]
    [InlineData("héllo", false)]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", false)]
    public void Names_are_one_subject_token(string name, bool valid) => Assert.Equal(valid, RoomNames.IsValid(name));

    [Theory]
    [InlineData("HELLO\n", "alice: HELLO\n")]
    [InlineData("HELLO\r\n", "alice: HELLO\r\n")]
    [InlineData("HELLO", "alice: HELLO\n")]
    public void Others_get_the_line_with_the_name_in_front_and_one_terminator(string shouted, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(RoomLines.Said("alice", Encoding.UTF8.GetBytes(shouted))));
}
