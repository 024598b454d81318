using System.Buffers;
using System.Text;
using Shout.Protocols.Framing;

namespace Shout.Tests.Protocols.Framing;

public sealed class LineFramerTests
{
    private static (string Output, FrameResult Result) Run(LineFramer framer, string input, bool completed = false, int[]? segments = null)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var chunks = segments is null ? [bytes] : SplitAt(bytes, segments);
        var output = new ArrayBufferWriter<byte>();
        var result = framer.Process(Segments.Build(chunks), output, completed);
        return (Encoding.UTF8.GetString(output.WrittenSpan), result);
    }

    private static List<byte[]> SplitAt(byte[] bytes, int[] cuts)
    {
        var list = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts)
        {
            list.Add(bytes[start..cut]);
            start = cut;
        }

        list.Add(bytes[start..]);
        return list;
    }

    [Fact]
    public void Answers_whole_lines_and_keeps_the_unfinished_one()
    {
        var (output, result) = Run(new LineFramer(), "hello\r\nworld\npart");
        Assert.Equal("HELLO\r\nWORLD\n", output);
        Assert.Equal(13, result.Consumed);
        Assert.Equal(FrameAction.Continue, result.Action);
    }

    [Fact]
    public void Answers_the_unfinished_line_when_input_ends()
    {
        var (output, result) = Run(new LineFramer(), "a\npart", completed: true);
        Assert.Equal("A\nPART", output);
        Assert.Equal(6, result.Consumed);
    }

    [Theory]
    [InlineData("quit\n")]
    [InlineData("quit\r\n")]
    public void Quit_is_answered_then_closes(string line)
    {
        var (output, result) = Run(new LineFramer(), "hi\n" + line + "ignored\n");
        Assert.Equal("HI\n" + line.ToUpperInvariant(), output);
        Assert.Equal(FrameAction.Quit, result.Action);
        Assert.Equal(3 + line.Length, result.Consumed);
    }

    [Theory]
    [InlineData(" quit\n")]
    [InlineData("quits\n")]
    [InlineData("QUIT\n")]
    public void Only_the_exact_word_quits(string line)
    {
        Assert.Equal(FrameAction.Continue, Run(new LineFramer(), line).Result.Action);
    }

    [Theory]
    [InlineData(7, true)]
    [InlineData(8, true)]
    [InlineData(9, false)]
    public void Line_limit_is_exact(int length, bool accepted)
    {
        var expected = accepted ? FrameAction.Continue : FrameAction.ProtocolError;
        var framer = new LineFramer(8);
        var (output, result) = Run(framer, new string('x', length) + "\n");
        Assert.Equal(expected, result.Action);
        Assert.Equal(expected == FrameAction.Continue ? new string('X', length) + "\n" : "ERR line too long (max 8 bytes)\n", output);
    }

    [Theory]
    [InlineData("quit", "QUIT", "Quit")]
    [InlineData("quit\r\n", "QUIT\r\n", "Quit")]
    [InlineData("hello", "HELLO", "Continue")]
    [InlineData("12345678\n", "12345678\n", "Continue")]
    [InlineData("123456789", "ERR line too long (max 8 bytes)\n", "ProtocolError")]
    public void A_whole_line_needs_no_terminator_and_is_judged_like_a_line(string line, string answer, string action)
    {
        var output = new ArrayBufferWriter<byte>();
        var result = new LineFramer(8).Line(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), output);
        Assert.Equal(answer, Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(action, result.Action.ToString());
        Assert.Equal(Encoding.UTF8.GetByteCount(line), result.Consumed);
    }

    [Fact]
    public void An_unfinished_line_past_the_limit_is_refused_without_waiting_for_its_newline()
    {
        var (output, result) = Run(new LineFramer(8), "123456789");
        Assert.Equal(FrameAction.ProtocolError, result.Action);
        Assert.Equal("ERR line too long (max 8 bytes)\n", output);
    }

    [Fact]
    public void An_unfinished_line_at_the_limit_waits()
    {
        var (output, result) = Run(new LineFramer(8), "12345678");
        Assert.Equal(FrameAction.Continue, result.Action);
        Assert.Equal(0, result.Consumed);
        Assert.Equal("", output);
    }

    [Fact]
    public void Lines_and_characters_split_across_segments_come_out_whole()
    {
        var text = "ȿa\nbȿ\nquit\n";
        var bytes = Encoding.UTF8.GetByteCount(text);
        for (var cut = 1; cut < bytes; cut++)
        {
            var (output, result) = Run(new LineFramer(), text, segments: [cut]);
            Assert.Equal("\u2C7EA\nB\u2C7E\nQUIT\n", output);
            Assert.Equal(FrameAction.Quit, result.Action);
        }
    }

    [Fact]
    public void Stream_framer_answers_everything_but_an_incomplete_character()
    {
        var output = new ArrayBufferWriter<byte>();
        var input = Encoding.UTF8.GetBytes("abȿ");
        var result = StreamFramer.Instance.Process(new ReadOnlySequence<byte>(input, 0, 3), output, isCompleted: false);
        Assert.Equal(2, result.Consumed);
        Assert.Equal("AB", Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
