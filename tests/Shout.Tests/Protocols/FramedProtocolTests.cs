using System.Buffers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Hosting;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;
using Shout.Tests.Rooms;
using Shout.Tests.Transports.Streams;
using Shout.Transports.Streams;

namespace Shout.Tests.Protocols;

/// <summary>
/// Echo and line as one protocol on both seams, with no loop and no socket. On a stream (over the
/// stream peer and an in-memory connection): what <see cref="FramedProtocol"/> writes for what it is
/// given, the replies it owns (the drain notice, the line timeout's refusal), what it counts, and
/// <see cref="FrameAction.Gone"/> when the client takes no more. On the message seam (a recording
/// peer): each chunk answered at once as the next part of the answer, a character split between
/// chunks waiting for the rest, the end of a message ending the answer.
/// </summary>
public sealed class FramedProtocolTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly MemoryConnection _connection = new();
    private readonly Session _session;
    private readonly SessionTimeouts _timeouts;
    private readonly StreamPeer _peer;

    public FramedProtocolTests()
    {
        var metrics = new ShoutMetrics(_meters);
        _session = new Session(metrics, "p1", TransportKind.Tcp, "test", 0, null);
        _peer = new StreamPeer(_connection, _connection.Transport.Input);
        _timeouts = new SessionTimeouts(new SessionSettings(), new FakeTimeProvider(), metrics, _peer);
        _peer.Open(_session, _timeouts);
    }

    public void Dispose()
    {
        _timeouts.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task Echo_answers_every_byte_uppercased_and_counts_both_ways()
    {
        var protocol = Stream(ShoutMode.Stream);

        var frame = await protocol.ReceiveAsync(Bytes("hello wörld"), end: false, draining: false);

        Assert.Equal(FrameAction.Continue, frame.Action);
        Assert.Equal(Encoding.UTF8.GetByteCount("hello wörld"), frame.Consumed);
        Assert.Equal("HELLO WÖRLD", await ReadAsync(Encoding.UTF8.GetByteCount("HELLO WÖRLD")));
        Assert.Equal(frame.Consumed, _session.BytesIn);
        Assert.Equal(Encoding.UTF8.GetByteCount("HELLO WÖRLD"), _session.BytesOut);
    }

    [Fact]
    public async Task Line_mode_answers_whole_lines_leaves_the_rest_and_quit_ends_it()
    {
        var protocol = Stream(ShoutMode.Line);

        var frame = await protocol.ReceiveAsync(Bytes("one\ntw"), end: false, draining: false);
        Assert.Equal((4L, FrameAction.Continue), (frame.Consumed, frame.Action));
        Assert.Equal("ONE\n", await ReadAsync(4));

        frame = await protocol.ReceiveAsync(Bytes("two\nquit\nnever\n"), end: false, draining: false);
        Assert.Equal(FrameAction.Quit, frame.Action);
        Assert.Equal("TWO\nQUIT\n", await ReadAsync(9));
    }

    [Fact]
    public async Task A_drain_answers_first_then_tells_a_line_client_to_quit()
    {
        var protocol = Stream(ShoutMode.Line);

        await protocol.ReceiveAsync(Bytes("last\n"), end: true, draining: true);

        Assert.Equal("LAST\nQUIT\n", await ReadAsync(10));
    }

    [Fact]
    public async Task The_line_timeout_is_refused_in_words_and_the_idle_timeout_says_nothing()
    {
        var protocol = Stream(ShoutMode.Line);

        await protocol.TimedOutAsync(CloseReason.IdleTimeout);
        await protocol.TimedOutAsync(CloseReason.LineTimeout);
        _connection.Transport.Output.Complete();

        Assert.Equal("ERR line timeout\n", await ReadAsync(int.MaxValue));
        Assert.Equal(LineFramer.TimedOutReply.Length, _session.BytesOut);
        Assert.Equal(0, _session.BytesIn);
    }

    [Fact]
    public async Task A_client_that_takes_no_more_replies_makes_the_answer_gone()
    {
        var protocol = Stream(ShoutMode.Stream);
        _connection.ClientOutput.Reader.Complete();

        var frame = await protocol.ReceiveAsync(Bytes("anyone?"), end: false, draining: false);

        Assert.Equal(FrameAction.Gone, frame.Action);
    }

    [Fact]
    public async Task Nothing_offered_is_nothing_written_or_counted()
    {
        var protocol = Stream(ShoutMode.Line);

        var frame = await protocol.ReceiveAsync(Bytes("no newline yet"), end: false, draining: false);

        Assert.Equal((0L, FrameAction.Continue), (frame.Consumed, frame.Action));
        Assert.Equal(0, _session.BytesIn + _session.BytesOut);
        Assert.Equal(0, _connection.Transport.Output.UnflushedBytes);
    }

    [Fact]
    public async Task On_the_message_seam_each_chunk_is_answered_as_it_arrives_and_the_end_of_the_message_ends_the_answer()
    {
        var peer = new RecordingPeer(MessageSession());
        await using var echo = FramedProtocol.Echo.Start(peer, "", new SessionSettings());

        Assert.Equal(new FrameResult(6, FrameAction.Continue), await echo.ReceiveAsync(Bytes("hello "), end: false, draining: false));
        Assert.Equal(new FrameResult(5, FrameAction.Continue), await echo.ReceiveAsync(Bytes("world"), end: true, draining: false));

        Assert.Equal([("HELLO ", false), ("WORLD", true)], peer.Answers);
        Assert.Equal(11, peer.Session.BytesIn);
        Assert.Equal(11, peer.Session.BytesOut);
    }

    [Fact]
    public async Task On_the_message_seam_a_character_split_between_chunks_is_left_unconsumed_and_answered_whole_with_the_next()
    {
        var peer = new RecordingPeer(MessageSession());
        await using var echo = FramedProtocol.Echo.Start(peer, "", new SessionSettings());
        var bytes = Encoding.UTF8.GetBytes("aé"); // 'a', then é as two bytes

        // The chunk ends inside é: 'a' is answered, é's first byte is not consumed.
        var first = await echo.ReceiveAsync(new ReadOnlySequence<byte>(bytes, 0, 2), end: false, draining: false);
        Assert.Equal(1, first.Consumed);

        // The transport offers the unconsumed byte again at the front of the next chunk.
        var second = await echo.ReceiveAsync(new ReadOnlySequence<byte>(bytes, 1, 2), end: true, draining: false);
        Assert.Equal(2, second.Consumed);
        Assert.Equal([("A", false), ("É", true)], peer.Answers);
    }

    [Fact]
    public async Task On_the_message_seam_part_of_a_character_writes_nothing_and_an_empty_message_still_ends_its_answer()
    {
        var peer = new RecordingPeer(MessageSession());
        await using var echo = FramedProtocol.Echo.Start(peer, "", new SessionSettings());

        Assert.Equal(0, (await echo.ReceiveAsync(new ReadOnlySequence<byte>([0xC3]), end: false, draining: false)).Consumed);
        Assert.Equal(0, (await echo.ReceiveAsync(ReadOnlySequence<byte>.Empty, end: true, draining: false)).Consumed);

        Assert.Equal([("", false), ("", true)], peer.Answers);
        Assert.Equal(0, peer.Session.BytesIn + peer.Session.BytesOut);
    }

    [Fact]
    public async Task Line_mode_on_the_message_seam_is_the_echo_since_a_message_is_already_a_line()
    {
        var peer = new RecordingPeer(MessageSession());
        await using var protocol = new FramedProtocol.Factory(new LineFramer()).Start(peer, "", new SessionSettings());

        // No newline needed, and quit is an ordinary message.
        Assert.Equal(new FrameResult(4, FrameAction.Continue), await protocol.ReceiveAsync(Bytes("quit"), end: true, draining: false));
        Assert.Equal([("QUIT", true)], peer.Answers);
    }

    [Fact]
    public void The_echo_serves_only_its_own_address()
    {
        Assert.Null(FramedProtocol.Echo.Refusal(""));
        Assert.Contains("room mode", FramedProtocol.Echo.Refusal("lobby"), StringComparison.Ordinal);
        Assert.False(FramedProtocol.Echo.Leases);
    }

    private IProtocol Stream(ShoutMode mode) =>
        (mode == ShoutMode.Line ? new FramedProtocol.Factory(new LineFramer()) : FramedProtocol.Echo).Start(_peer, "", new SessionSettings());

    private Session MessageSession() => new(new ShoutMetrics(_meters), "m1", TransportKind.Ws, "test", 0, null);

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>Reads until <paramref name="count"/> bytes (or the end) arrived.</summary>
    private async Task<string> ReadAsync(int count)
    {
        var reader = _connection.ClientOutput.Reader;
        var text = new StringBuilder();
        var seen = 0;
        while (seen < count)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            var take = result.Buffer.Slice(0, Math.Min(result.Buffer.Length, count - seen));
            text.Append(Encoding.UTF8.GetString(take.ToArray()));
            seen += (int)take.Length;
            reader.AdvanceTo(take.End);
            if (result.IsCompleted && take.Length == result.Buffer.Length)
            {
                break;
            }
        }

        return text.ToString();
    }
}
