using System.Net;
using System.Text;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;
using Shout.Tests.Rooms;

namespace Shout.Tests.Protocols;

/// <summary>
/// The echo on the message seam, over an in-memory peer: each chunk answered at once as the next
/// part of the answer (a character split between chunks waits for the rest), the end of a message
/// ends the answer, and an answer the peer cannot carry is cut at a character boundary.
/// </summary>
public sealed class EchoMessageProtocolTests : IDisposable
{
    private readonly TestMeters _meters = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Each_chunk_is_answered_as_it_arrives_and_the_end_of_the_message_ends_the_answer()
    {
        var peer = new RecordingPeer(Session());
        await using var echo = EchoMessageProtocol.Factory.Start(peer, "", new SessionSettings());

        Assert.Equal(new FrameResult(6, FrameAction.Continue), await echo.ReceiveAsync("hello "u8.ToArray(), endOfMessage: false));
        Assert.Equal(new FrameResult(5, FrameAction.Continue), await echo.ReceiveAsync("world"u8.ToArray(), endOfMessage: true));

        Assert.Equal([("HELLO ", false), ("WORLD", true)], peer.Answers);
        Assert.Equal(11, peer.Session.BytesIn);
        Assert.Equal(11, peer.Session.BytesOut);
    }

    [Fact]
    public async Task A_character_split_between_chunks_is_left_unconsumed_and_answered_whole_with_the_next()
    {
        var peer = new RecordingPeer(Session());
        await using var echo = EchoMessageProtocol.Factory.Start(peer, "", new SessionSettings());
        var bytes = Encoding.UTF8.GetBytes("aé"); // 'a', then é as two bytes

        // The chunk ends inside é: 'a' is answered, é's first byte is not consumed.
        var first = await echo.ReceiveAsync(bytes.AsMemory(0, 2), endOfMessage: false);
        Assert.Equal(1, first.Consumed);

        // The transport offers the unconsumed byte again at the front of the next chunk.
        var second = await echo.ReceiveAsync(bytes.AsMemory(1), endOfMessage: true);
        Assert.Equal(2, second.Consumed);
        Assert.Equal([("A", false), ("É", true)], peer.Answers);
    }

    [Fact]
    public async Task Only_part_of_a_character_so_far_sends_nothing_but_an_empty_message_is_still_answered()
    {
        var peer = new RecordingPeer(Session());
        await using var echo = EchoMessageProtocol.Factory.Start(peer, "", new SessionSettings());

        Assert.Equal(0, (await echo.ReceiveAsync(new byte[] { 0xC3 }, endOfMessage: false)).Consumed);
        Assert.Empty(peer.Answers);

        Assert.Equal(0, (await echo.ReceiveAsync(ReadOnlyMemory<byte>.Empty, endOfMessage: true)).Consumed);
        Assert.Equal([("", true)], peer.Answers);
    }

    [Fact]
    public async Task An_answer_longer_than_the_peer_carries_is_cut_at_a_character_boundary_and_reported()
    {
        // ȿ (2 bytes) uppercases to Ȿ (3 bytes): four of them answer in 12 bytes, and the peer carries 10.
        var peer = new RecordingPeer(Session()) { MaxAnswer = 10 };
        await using var echo = EchoMessageProtocol.Factory.Start(peer, "", new SessionSettings());
        var datagram = Encoding.UTF8.GetBytes("ȿȿȿȿ");

        var turn = await echo.ReceiveAsync(datagram, endOfMessage: true);

        Assert.Equal(datagram.Length, turn.Consumed);
        Assert.Equal([("ⱾⱾⱾ", true)], peer.Answers);
        Assert.Equal((8, 9), peer.Cut);
    }

    [Fact]
    public void The_echo_serves_only_its_own_address()
    {
        Assert.Null(EchoMessageProtocol.Factory.Refusal(""));
        Assert.Contains("room mode", EchoMessageProtocol.Factory.Refusal("lobby"), StringComparison.Ordinal);
        Assert.False(EchoMessageProtocol.Factory.Leases);
    }

    private Session Session() => new(new ShoutMetrics(_meters), "m1", TransportKind.Ws, "test", 0, null);

    /// <summary>A peer that records each answer part (as text) and whether it ended the answer.</summary>
    private sealed class RecordingPeer(Session session) : IMessagePeer
    {
        public Session Session => session;

        public SocketAddress? UnconfirmedAddress => null;

        public int MaxAnswer { get; init; } = int.MaxValue;

        public List<(string Text, bool End)> Answers { get; } = [];

        public (int Received, int Sent)? Cut { get; private set; }

        public ValueTask SendAsync(ReadOnlyMemory<byte> message) => throw new InvalidOperationException("the echo only answers");

        public ValueTask AnswerAsync(int received, ReadOnlyMemory<byte> answer, bool endOfMessage)
        {
            session.Answered(received, answer.Length);
            Answers.Add((Encoding.UTF8.GetString(answer.Span), endOfMessage));
            return ValueTask.CompletedTask;
        }

        public void AnswerCut(int received, int sent) => Cut = (received, sent);

        public void Kick() => throw new InvalidOperationException("the echo never kicks");
    }
}
