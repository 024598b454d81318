using System.Net;
using System.Text;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Shout.Client;
using Shout.Protocols;
using Shout.Rooms;
using Shout.Text;
using Shout.Transports.Udp;

namespace Shout.Tests.Rooms;

/// <summary>RELIABILITY row 28's pieces: the 3× rule, the address token, the join line, and the client's half of the join.</summary>
public sealed class UdpJoinTests
{
    private static readonly SocketAddress Alice = new IPEndPoint(IPAddress.Loopback, 40001).Serialize();
    private static readonly SocketAddress AliceOtherPort = new IPEndPoint(IPAddress.Loopback, 40002).Serialize();
    private static readonly SocketAddress AliceV6 = new IPEndPoint(IPAddress.IPv6Loopback, 40001).Serialize();

    [Theory]
    [InlineData(1, 0, 3, true)]
    [InlineData(1, 0, 4, false)]
    [InlineData(6, 5, 13, true)]
    [InlineData(6, 5, 14, false)]
    [InlineData(0, 0, 0, true)]
    public void The_limit_is_three_times_every_byte_received(long received, long sent, int next, bool allowed) =>
        Assert.Equal(allowed, AmplificationLimit.Allows(received, sent, next));

    /// <summary>Stream and line mode never reach the limit: a reply (cut or not) is at most 1.5× its datagram.</summary>
    [Property(MaxTest = 500)]
    public bool A_stream_mode_reply_is_within_the_limit(byte[] datagram, bool grow)
    {
        // Half the cases made of ȿ, the character that grows most (2 bytes to 3).
        var input = grow ? Encoding.UTF8.GetBytes(new string('ȿ', datagram.Length)) : datagram;
        var reply = new byte[ShoutCase.MaxOutputLength(input.Length)];
        var written = UdpReplyRule.Compose(input, reply, UdpReplyRule.MaxIPv4Payload, out _);
        return written <= 1.5 * input.Length && AmplificationLimit.Allows(input.Length, 0, written);
    }

    [Fact]
    public void A_token_is_8_base32_characters_bound_to_the_address_and_port_and_lives_two_to_four_minutes()
    {
        var clock = new FakeTimeProvider();
        var tokens = new UdpAddressToken(clock);
        var token = tokens.Issue(Alice);
        Assert.Matches("^[a-z2-7]{8}$", token);
        Assert.Equal(token, tokens.Issue(Alice));
        Assert.True(tokens.IsValid(Alice, token));
        Assert.True(tokens.IsValid(Alice, token.ToUpperInvariant()));
        Assert.False(tokens.IsValid(AliceOtherPort, token));
        Assert.False(tokens.IsValid(AliceV6, token));
        Assert.False(tokens.IsValid(Alice, token.AsSpan(0, 7)));
        Assert.False(tokens.IsValid(Alice, "aaaaaaaa"));
        Assert.False(new UdpAddressToken(clock).IsValid(Alice, token), "another server (another key) accepted the token");

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True(tokens.IsValid(Alice, token), "not valid in the next window");
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.False(tokens.IsValid(Alice, token), "still valid two windows later");
    }

    [Theory]
    [InlineData("/join", null, null, 5)]
    [InlineData("/join\n", null, null, 6)]
    [InlineData("/join lobby", "lobby", null, 11)]
    [InlineData("/JOIN games abcdefgh\r\nhello\n", "games", "abcdefgh", 22)]
    [InlineData("/join  lobby   abcdefgh", "lobby", "abcdefgh", 23)]
    public void A_join_first_line_is_read(string datagram, string? room, string? token, int length)
    {
        Assert.True(UdpJoinLine.TryParse(Encoding.UTF8.GetBytes(datagram), out var join));
        Assert.Equal(new UdpJoinLine(room, token, length), join);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("/joinx lobby")]
    [InlineData("/join a b c")]
    [InlineData("/who\n/join lobby abcdefgh")]
    public void Other_first_lines_are_not_joins(string datagram) =>
        Assert.False(UdpJoinLine.TryParse(Encoding.UTF8.GetBytes(datagram), out _));

    [Fact]
    public void The_client_answers_a_challenge_with_the_lines_the_server_did_not_take_and_hides_the_OK()
    {
        var join = new DatagramRoomJoin();
        join.Sent("hello\n"u8);
        join.Sent("/nick bob"u8);
        Assert.Equal(DatagramRoomJoin.Step.Answer, join.Receive("/join"u8, out var probe));
        Assert.Equal("/join lobby", Encoding.UTF8.GetString(probe!));
        Assert.False(join.Joined);

        Assert.Equal(DatagramRoomJoin.Step.Answer, join.Receive("/join lobby abcdefgh"u8, out var answer));
        Assert.Equal("/join lobby abcdefgh\nhello\n/nick bob", Encoding.UTF8.GetString(answer!));
        Assert.True(join.Joined);
        Assert.Equal(DatagramRoomJoin.Step.Hide, join.Receive("OK room lobby"u8, out _));
        Assert.Equal(DatagramRoomJoin.Step.Show, join.Receive("HELLO"u8, out _));
        Assert.Equal(DatagramRoomJoin.Step.Show, join.Receive("OK room lobby"u8, out _));
    }

    [Fact]
    public void The_client_does_not_answer_its_own_answer_echoed_back()
    {
        var join = new DatagramRoomJoin();
        Assert.Equal(DatagramRoomJoin.Step.Answer, join.Receive("/join lobby abcdefgh"u8, out _));
        Assert.Equal(DatagramRoomJoin.Step.Hide, join.Receive("/join lobby abcdefgh"u8, out _));

        // Something else between: a new challenge (the lease dropped it) is answered again.
        Assert.Equal(DatagramRoomJoin.Step.Show, join.Receive("bob: HI"u8, out _));
        Assert.Equal(DatagramRoomJoin.Step.Answer, join.Receive("/join lobby abcdefgh"u8, out _));
    }

    [Fact]
    public void After_a_plain_reply_the_client_keeps_nothing_it_sends()
    {
        var join = new DatagramRoomJoin();
        join.Sent("one"u8);
        Assert.Equal(DatagramRoomJoin.Step.Show, join.Receive("ONE"u8, out _));
        join.Sent("two"u8);

        // Not a room server after all (or its restart in room mode): a challenge is still answered, with nothing kept.
        Assert.Equal(DatagramRoomJoin.Step.Answer, join.Receive("/join lobby abcdefgh"u8, out var answer));
        Assert.Equal("/join lobby abcdefgh", Encoding.UTF8.GetString(answer!));
    }

    [Theory]
    [InlineData("/JOIN LOBBY ABCDEFGH")]
    [InlineData("/join lobby abcdefg")]
    [InlineData("/join lobby abcdefgh\n")]
    [InlineData("/join lob!by abcdefgh")]
    [InlineData("/join lobby abcdefg1")]
    [InlineData("HELLO")]
    public void An_uppercased_reply_or_anything_not_exactly_a_challenge_is_shown(string datagram)
    {
        var join = new DatagramRoomJoin();
        Assert.Equal(DatagramRoomJoin.Step.Show, join.Receive(Encoding.UTF8.GetBytes(datagram), out _));
        Assert.False(join.Joined);
    }
}
