using System.Buffers;
using System.Text;
using Shout.Text;

namespace Shout.Tests.Text;

public sealed class ShoutCaseTests
{
    [Theory]
    [InlineData("hello world", "HELLO WORLD")]
    [InlineData("", "")]
    [InlineData("Grüße, straße", "GRÜßE, STRAßE")] // ß has no simple uppercase; Go leaves it too.
    [InlineData("ı", "I")] // U+0131: Go maps it to I, .NET's invariant casing would not.
    [InlineData("ȿ", "\u2C7E")] // 2 bytes become 3.
    [InlineData("ɐ", "\u2C6F")]
    [InlineData("ǅ", "Ǆ")] // titlecase letter: simple uppercase, like Go.
    [InlineData("µ", "Μ")]
    [InlineData("ſ", "S")]
    [InlineData("𐐨 deseret", "𐐀 DESERET")]
    [InlineData("日本語 ok", "日本語 OK")]
    public void Uppercases_like_the_tutorial(string input, string expected)
    {
        Assert.Equal(expected, ShoutCase.ToUpper(input));
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })] // bad continuation
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0xAF })] // overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // encoded surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { 0xE2, 0x82 })] // truncated at end of input
    public void Invalid_bytes_pass_through_unchanged(byte[] input)
    {
        Assert.Equal(input, ShoutCase.ToUpper(input));
    }

    [Fact]
    public void Invalid_bytes_between_letters_keep_their_place()
    {
        byte[] input = [(byte)'a', 0xC3, 0x28, (byte)'b', 0xFF, (byte)'c'];
        Assert.Equal(new byte[] { (byte)'A', 0xC3, 0x28, (byte)'B', 0xFF, (byte)'C' }, ShoutCase.ToUpper(input));
    }

    [Fact]
    public void Incomplete_character_is_kept_back_until_more_input_comes()
    {
        var bytes = Encoding.UTF8.GetBytes("aȿ");
        var dst = new byte[16];
        var status = ShoutCase.ToUpper(bytes.AsSpan(0, 2), dst, isFinalBlock: false, out var consumed, out var written);
        Assert.Equal(OperationStatus.NeedMoreData, status);
        Assert.Equal(1, consumed);
        Assert.Equal("A"u8.ToArray(), dst[..written]);
    }

    [Fact]
    public void Reports_destination_too_small_without_losing_input()
    {
        var bytes = Encoding.UTF8.GetBytes("abcȿ");
        var dst = new byte[4];
        var status = ShoutCase.ToUpper(bytes, dst, isFinalBlock: true, out var consumed, out var written);
        Assert.Equal(OperationStatus.DestinationTooSmall, status);
        Assert.Equal(3, consumed);
        Assert.Equal("ABC"u8.ToArray(), dst[..written]);
    }

    [Fact]
    public void Every_code_point_agrees_with_the_reference_and_never_grows_past_the_bound()
    {
        var maxRatio = 0.0;
        for (var cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (!Rune.IsValid(cp))
            {
                continue;
            }

            var rune = new Rune(cp);
            var input = new byte[rune.Utf8SequenceLength];
            rune.EncodeToUtf8(input);
            var output = ShoutCase.ToUpper(input);
            Assert.True(output.Length <= ShoutCase.MaxOutputLength(input.Length), $"U+{cp:X4} grew too much");
            maxRatio = Math.Max(maxRatio, (double)output.Length / input.Length);
            var upper = ShoutCase.ToUpper(rune);
            var expected = new byte[upper.Utf8SequenceLength];
            upper.EncodeToUtf8(expected);
            Assert.Equal(expected, output);
        }

        Assert.Equal(1.5, maxRatio);
    }

    [Fact]
    public void Long_ascii_runs_take_the_vector_path_and_stay_correct()
    {
        var text = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog 0123456789 ", 100)) + "é";
        Assert.Equal(text.ToUpperInvariant(), ShoutCase.ToUpper(text));
    }
}
