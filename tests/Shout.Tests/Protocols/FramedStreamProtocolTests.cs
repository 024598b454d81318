using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;
using Shout.Tests.Rooms;

namespace Shout.Tests.Protocols;

/// <summary>
/// Echo and line as a protocol, with no loop and no socket: what <see cref="FramedStreamProtocol"/>
/// writes for what it is given, the replies it owns (the drain notice, the line timeout's refusal),
/// what it counts, and <see cref="FrameAction.Gone"/> when the client takes no more.
/// </summary>
public sealed class FramedStreamProtocolTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly Pipe _pipe = new();
    private readonly Session _session;
    private readonly SessionTimeouts _timeouts;

    public FramedStreamProtocolTests()
    {
        var metrics = new ShoutMetrics(_meters);
        _session = new Session(metrics, "p1", TransportKind.Tcp, "test", 0, null);
        _timeouts = new SessionTimeouts(new SessionSettings(), new FakeTimeProvider(), metrics, new NoTarget());
    }

    public void Dispose()
    {
        _timeouts.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task Echo_answers_every_byte_uppercased_and_counts_both_ways()
    {
        var protocol = new FramedStreamProtocol(StreamFramer.Instance, _pipe.Writer, _timeouts, _session);

        var frame = await protocol.ProcessAsync(Bytes("hello wörld"), final: false, draining: false);

        Assert.Equal(FrameAction.Continue, frame.Action);
        Assert.Equal(Encoding.UTF8.GetByteCount("hello wörld"), frame.Consumed);
        Assert.Equal("HELLO WÖRLD", await ReadAsync(Encoding.UTF8.GetByteCount("HELLO WÖRLD")));
        Assert.Equal(frame.Consumed, _session.BytesIn);
        Assert.Equal(Encoding.UTF8.GetByteCount("HELLO WÖRLD"), _session.BytesOut);
    }

    [Fact]
    public async Task Line_mode_answers_whole_lines_leaves_the_rest_and_quit_ends_it()
    {
        var protocol = new FramedStreamProtocol(new LineFramer(), _pipe.Writer, _timeouts, _session);

        var frame = await protocol.ProcessAsync(Bytes("one\ntw"), final: false, draining: false);
        Assert.Equal((4L, FrameAction.Continue), (frame.Consumed, frame.Action));
        Assert.Equal("ONE\n", await ReadAsync(4));

        frame = await protocol.ProcessAsync(Bytes("two\nquit\nnever\n"), final: false, draining: false);
        Assert.Equal(FrameAction.Quit, frame.Action);
        Assert.Equal("TWO\nQUIT\n", await ReadAsync(9));
    }

    [Fact]
    public async Task A_drain_answers_first_then_tells_a_line_client_to_quit()
    {
        var protocol = new FramedStreamProtocol(new LineFramer(), _pipe.Writer, _timeouts, _session);

        await protocol.ProcessAsync(Bytes("last\n"), final: true, draining: true);

        Assert.Equal("LAST\nQUIT\n", await ReadAsync(10));
    }

    [Fact]
    public async Task The_line_timeout_is_refused_in_words_and_the_idle_timeout_says_nothing()
    {
        var protocol = new FramedStreamProtocol(new LineFramer(), _pipe.Writer, _timeouts, _session);

        await protocol.TimedOutAsync(CloseReason.IdleTimeout);
        await protocol.TimedOutAsync(CloseReason.LineTimeout);
        _pipe.Writer.Complete();

        Assert.Equal("ERR line timeout\n", await ReadAsync(int.MaxValue));
        Assert.Equal(LineFramer.TimedOutReply.Length, _session.BytesOut);
    }

    [Fact]
    public async Task A_client_that_takes_no_more_replies_makes_the_answer_gone()
    {
        var protocol = new FramedStreamProtocol(StreamFramer.Instance, _pipe.Writer, _timeouts, _session);
        _pipe.Reader.Complete();

        var frame = await protocol.ProcessAsync(Bytes("anyone?"), final: false, draining: false);

        Assert.Equal(FrameAction.Gone, frame.Action);
    }

    [Fact]
    public async Task Nothing_offered_is_nothing_written_or_counted()
    {
        var protocol = new FramedStreamProtocol(new LineFramer(), _pipe.Writer, _timeouts, _session);

        var frame = await protocol.ProcessAsync(Bytes("no newline yet"), final: false, draining: false);

        Assert.Equal((0L, FrameAction.Continue), (frame.Consumed, frame.Action));
        Assert.Equal(0, _session.BytesIn + _session.BytesOut);
        Assert.Equal(0, _pipe.Writer.UnflushedBytes);
    }

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>Reads until <paramref name="count"/> bytes (or the end) arrived.</summary>
    private async Task<string> ReadAsync(int count)
    {
        var text = new StringBuilder();
        var seen = 0;
        while (seen < count)
        {
            var result = await _pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            var take = result.Buffer.Slice(0, Math.Min(result.Buffer.Length, count - seen));
            text.Append(Encoding.UTF8.GetString(take.ToArray()));
            seen += (int)take.Length;
            _pipe.Reader.AdvanceTo(take.End);
            if (result.IsCompleted && take.Length == result.Buffer.Length)
            {
                break;
            }
        }

        return text.ToString();
    }

    private sealed class NoTarget : ISessionTimeoutTarget
    {
        public void Interrupt()
        {
        }

        public void Abort()
        {
        }
    }
}
