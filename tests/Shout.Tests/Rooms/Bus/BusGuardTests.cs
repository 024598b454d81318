using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.Tests.Rooms.Bus;

/// <summary>Row 30: what a client on the bus that is not an instance can make an instance do.</summary>
public sealed class BusGuardTests
{
    private const int MaxLine = 64;

    [Theory]
    [InlineData("alice: HELLO\n", 1)]
    [InlineData("alice: HELLO\r\n", 1)]
    [InlineData("alice: A\talone\nalice: B\n", 2)]
    [InlineData("alice: ÉTÉ ȿ\n", 1)]
    [InlineData("alice: \n", 1)]
    public void Lines_an_instance_sends_are_delivered_as_they_are(string said, int lines)
    {
        var refusal = Check(Said("alice", said), out var payload, out var counted);
        Assert.Equal(BusRefusal.None, refusal);
        Assert.Equal(said, Encoding.UTF8.GetString(payload.Span));
        Assert.Equal(lines, counted);
    }

    [Theory]
    [InlineData("* admin joined lobby\n")]
    [InlineData("HELLO\n")]
    [InlineData("alice: HI\n* admin joined lobby\n")]
    [InlineData("bob: HI\n")]
    [InlineData("alice: HI")]
    [InlineData("")]
    [InlineData("alice: HI\rBOB: I AM BOB\n")]
    [InlineData("alice: \u001b[2J\n")]
    [InlineData("alice: \u001b]52;c;SGVsbG8=\u0007\n")]
    [InlineData("alice: \u009b31m\n")]
    [InlineData("alice: \u007f\n")]
    [InlineData("alice: \0\n")]
    public void A_forged_line_never_reaches_a_member(string said) =>
        Assert.Equal(BusRefusal.Text, Check(Said("alice", said), out _, out _));

    [Fact]
    public void Invalid_utf8_is_refused_since_a_lone_9B_byte_is_a_CSI()
    {
        var said = new byte[] { (byte)'a', (byte)':', (byte)' ', 0x9B, (byte)'2', (byte)'J', (byte)'\n' };
        Assert.Equal(BusRefusal.Text, Check(new BusMessage(Guid.NewGuid(), 1, 1, BusKind.Line, BusShape.Said, "lobby", "a", "", said), out _, out _));
    }

    [Fact]
    public void Too_long_a_line_or_too_many_lines_are_refused()
    {
        // A line can grow by half when uppercased; more than that no instance sends.
        Assert.Equal(BusRefusal.None, Check(Said("a", "a: " + new string('X', MaxLine * 3 / 2) + "\n"), out _, out _));
        Assert.Equal(BusRefusal.Size, Check(Said("a", "a: " + new string('X', (MaxLine * 3 / 2) + 1) + "\n"), out _, out _));
        var many = string.Concat(Enumerable.Repeat("a: X\n", 257));
        Assert.Equal(BusRefusal.Size, Check(Said("a", many), out _, out _));
        Assert.Equal(BusRefusal.None, Check(Said("a", string.Concat(Enumerable.Repeat("a: X\n", 256))), out _, out var lines));
        Assert.Equal(256, lines);
    }

    [Theory]
    [InlineData("lobby", "lobby", "al\u001bice")]
    [InlineData("lobby", "lobby", "")]
    [InlineData("lobby", "lobby", "two words")]
    [InlineData("lobby", "lob\nby", "alice")]
    [InlineData("other", "lobby", "alice")]
    public void Names_are_checked_and_the_room_must_be_its_subjects(string subjectRoom, string room, string nick)
    {
        var message = new BusMessage(Guid.NewGuid(), 1, 1, BusKind.Line, BusShape.Joined, room, nick, "", default);
        Assert.Equal(BusRefusal.Name, BusInbound.Check(message, subjectRoom, MaxLine, out _, out _));
    }

    [Fact]
    public void Notices_are_written_by_the_receiver_from_the_names()
    {
        var id = Guid.NewGuid();
        Assert.Equal(BusRefusal.None, Check(new BusMessage(id, 1, 1, BusKind.Line, BusShape.Joined, "lobby", "bob", "", default), out var joined, out _));
        Assert.Equal("* bob joined lobby\n", Encoding.UTF8.GetString(joined.Span));
        Assert.Equal(BusRefusal.None, Check(new BusMessage(id, 1, 2, BusKind.Final, BusShape.Left, "lobby", "bob", "", default), out var left, out _));
        Assert.Equal("* bob left lobby\n", Encoding.UTF8.GetString(left.Span));
        Assert.Equal(BusRefusal.None, Check(new BusMessage(id, 1, 3, BusKind.Line, BusShape.Renamed, "lobby", "rob", "bob", default), out var renamed, out _));
        Assert.Equal("* bob is now rob\n", Encoding.UTF8.GetString(renamed.Span));

        // A notice carrying text of its own, a final message that is not a leave, numbers below 1: no instance sends them.
        Assert.Equal(BusRefusal.Shape, Check(new BusMessage(id, 1, 4, BusKind.Line, BusShape.Joined, "lobby", "bob", "", "* admin joined lobby\n"u8.ToArray()), out _, out _));
        Assert.Equal(BusRefusal.Shape, Check(new BusMessage(id, 1, 4, BusKind.Final, BusShape.Said, "lobby", "bob", "", "bob: X\n"u8.ToArray()), out _, out _));
        Assert.Equal(BusRefusal.Shape, Check(new BusMessage(id, 0, 4, BusKind.Line, BusShape.Joined, "lobby", "bob", "", default), out _, out _));
        Assert.Equal(BusRefusal.Shape, Check(new BusMessage(id, 1, -5, BusKind.Line, BusShape.Joined, "lobby", "bob", "", default), out _, out _));
        Assert.Equal(BusRefusal.Name, Check(new BusMessage(id, 1, 4, BusKind.Line, BusShape.Renamed, "lobby", "bob", "b\u001bb", default), out _, out _));
    }

    [Fact]
    public void A_flood_of_invented_senders_is_bounded_and_freed_once_they_are_idle()
    {
        var clock = new FakeTimeProvider();
        var sequences = new SenderSequences(limit: 10_000, idle: TimeSpan.FromMinutes(5), clock);
        var instance = Guid.NewGuid();
        for (var sender = 1; sender <= 200_000; sender++)
        {
            Assert.True(sequences.Accept(instance, sender, 1, out _));
        }

        Assert.Equal(10_000, sequences.Count);
        Assert.Equal(190_000, sequences.Evicted);

        // The most recently heard are the ones kept: their order still holds.
        Assert.False(sequences.Accept(instance, 200_000, 1, out _));
        Assert.True(sequences.Accept(instance, 200_000, 3, out var missed));
        Assert.Equal(1, missed);

        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.True(sequences.Accept(instance, 199_999, 2, out _));
        clock.Advance(TimeSpan.FromMinutes(2));
        sequences.ForgetIdle();
        Assert.Equal(1, sequences.Count);
        clock.Advance(TimeSpan.FromMinutes(6));
        sequences.ForgetIdle();
        Assert.Equal(0, sequences.Count);
    }

    [Theory]
    [InlineData("nats://alice:s3cret@127.0.0.1:4222", "nats://alice:***@127.0.0.1:4222")]
    [InlineData("nats://t0ken@127.0.0.1:4222", "nats://***@127.0.0.1:4222")]
    [InlineData("tls://a:b@x:1,nats://c:d@y:2", "tls://a:***@x:1,nats://c:***@y:2")]
    [InlineData("nats://127.0.0.1:4222", "nats://127.0.0.1:4222")]
    public void An_address_never_shows_its_password_or_token(string url, string redacted)
    {
        var address = BusAddress.Parse(url)!;
        Assert.Equal(redacted, address.Redacted);
        Assert.Equal(redacted, address.ToString());
        Assert.Equal(redacted, BusAddress.Redact(url));
    }

    [Fact]
    public void Several_servers_by_commas_or_repeats_keep_their_order()
    {
        var address = BusAddress.Parse(["nats://a:1,nats://b:2", "tls://c:3"])!;
        Assert.Equal(["nats://a:1/", "nats://b:2/", "tls://c:3/"], address.Servers.Select(s => s.ToString()));
        Assert.True(address.AnyTls);
        Assert.Null(BusAddress.Parse("none"));
    }

    [Theory]
    [InlineData("http://u:pw@h:1")]
    [InlineData("nats://u:pw@h")]
    [InlineData("nats://u:pw@h:1/path")]
    [InlineData("nats://u:pw@h:1,garbage")]
    public void A_wrong_address_is_refused_in_one_line_without_its_password(string url)
    {
        var e = Assert.Throws<FormatException>(() => BusAddress.Parse(url));
        Assert.DoesNotContain("pw", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static BusMessage Said(string nick, string said) =>
        new(Guid.NewGuid(), 1, 1, BusKind.Line, BusShape.Said, "lobby", nick, "", Encoding.UTF8.GetBytes(said));

    private static BusRefusal Check(in BusMessage message, out ReadOnlyMemory<byte> payload, out int lines) =>
        BusInbound.Check(message, message.Room, MaxLine, out payload, out lines);
}
