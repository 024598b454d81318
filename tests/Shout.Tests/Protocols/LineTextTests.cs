using System.Text;
using Shout.Protocols;

namespace Shout.Tests.Protocols;

/// <summary>Lines as a message peer sends them, and where an answer too long for a datagram is cut.</summary>
public sealed class LineTextTests
{
    [Theory]
    [InlineData("line\n", "line")]
    [InlineData("line\r\n", "line")]
    [InlineData("last line unfinished", "last line unfinished")]
    [InlineData("\n", "")]
    public void A_line_loses_only_its_terminator(string line, string text) =>
        Assert.Equal(text, Encoding.UTF8.GetString(LineText.WithoutTerminator(Encoding.UTF8.GetBytes(line)).Span));

    [Fact]
    public void Lines_are_taken_one_at_a_time_with_their_terminators()
    {
        ReadOnlyMemory<byte> rest = Encoding.UTF8.GetBytes("a\nb\r\nc");
        Assert.Equal("a\n", Encoding.UTF8.GetString(LineText.Next(ref rest).Span));
        Assert.Equal("b\r\n", Encoding.UTF8.GetString(LineText.Next(ref rest).Span));
        Assert.Equal("c", Encoding.UTF8.GetString(LineText.Next(ref rest).Span));
        Assert.True(rest.IsEmpty);
    }

    [Theory]
    [InlineData("ⱾⱾⱾⱾ", 10, 9)] // three-byte characters: the fourth does not fit whole
    [InlineData("ⱾⱾⱾⱾ", 12, 12)] // fits
    [InlineData("abcdef", 4, 4)] // ASCII: any byte is a boundary
    [InlineData("aé", 2, 1)] // é's first byte fits, its second does not
    public void An_answer_is_cut_at_a_character_boundary(string answer, int max, int cut) =>
        Assert.Equal(cut, LineText.Cut(Encoding.UTF8.GetBytes(answer), max));

    [Fact]
    public void A_run_of_stray_continuation_bytes_is_cut_where_the_limit_is()
    {
        var bytes = Enumerable.Repeat((byte)0x80, 20).ToArray();
        Assert.Equal(10, LineText.Cut(bytes, 10));
    }
}
