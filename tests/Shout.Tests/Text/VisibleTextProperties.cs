using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Shout.Text;

namespace Shout.Tests.Text;

/// <summary>
/// <see cref="VisibleText"/> against a plain reference (one character at a time, the documented
/// rule) on random bytes weighted towards the dangerous ones, whole and cut into random blocks.
/// </summary>
public sealed class VisibleTextProperties
{
    private static readonly byte[][] Pieces =
    [
        "a"u8.ToArray(), "Z "u8.ToArray(), "\t"u8.ToArray(), "\r"u8.ToArray(), "\n"u8.ToArray(), "\r\n"u8.ToArray(), [0x1B], [0x7F], [0x00],
        "é"u8.ToArray(), "—"u8.ToArray(), "¡"u8.ToArray(), "😀"u8.ToArray(), "\u009b"u8.ToArray(), "\u0085"u8.ToArray(), "\u202e"u8.ToArray(),
        "\u2069"u8.ToArray(), "\u2065"u8.ToArray(), "\u202f"u8.ToArray(), [0xC2], [0xE2], [0xE2, 0x80], [0x80], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80],
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Escaping_matches_the_reference_whole_and_in_blocks_and_is_always_visible_UTF8(bool keepLineBreaks)
    {
        var random = new Random(29);
        for (var round = 0; round < 5000; round++)
        {
            var input = Enumerable.Range(0, random.Next(0, 24)).SelectMany(_ => Pieces[random.Next(Pieces.Length)]).ToArray();
            var expected = Reference(input, keepLineBreaks);

            var whole = VisibleText.Escape(input, keepLineBreaks);
            Assert.True(expected == Encoding.UTF8.GetString(whole), $"{Convert.ToHexString(input)}: {Encoding.UTF8.GetString(whole)} != {expected}");
            Assert.True(Utf8.IsValid(whole));
            Assert.True(VisibleText.IsVisible(whole, keepLineBreaks));
            Assert.Equal(whole.AsSpan().SequenceEqual(input), VisibleText.IsVisible(input, keepLineBreaks));

            Assert.Equal(expected, Encoding.UTF8.GetString(InBlocks(input, keepLineBreaks, random)));
        }
    }

    /// <summary>Feeds the input in random blocks, offering what was not consumed again with the next one.</summary>
    private static byte[] InBlocks(byte[] input, bool keepLineBreaks, Random random)
    {
        var output = new ArrayBufferWriter<byte>();
        var held = Array.Empty<byte>();
        var at = 0;
        while (at < input.Length)
        {
            var take = Math.Min(random.Next(1, 6), input.Length - at);
            byte[] block = [.. held, .. input.AsSpan(at, take)];
            at += take;
            var consumed = VisibleText.Escape(block, output, keepLineBreaks, isFinalBlock: false);
            held = block[consumed..];
        }

        Assert.Equal(held.Length, VisibleText.Escape(held, output, keepLineBreaks, isFinalBlock: true));
        return output.WrittenSpan.ToArray();
    }

    private static string Reference(byte[] input, bool keepLineBreaks)
    {
        var text = new StringBuilder();
        for (var i = 0; i < input.Length;)
        {
            if (Rune.DecodeFromUtf8(input.AsSpan(i), out var rune, out var length) != OperationStatus.Done)
            {
                for (var k = 0; k < length; k++)
                {
                    text.Append(CultureInfo.InvariantCulture, $"\\x{input[i + k]:X2}");
                }
            }
            else if (keepLineBreaks && (rune.Value == '\n' || (rune.Value == '\r' && i + 1 < input.Length && input[i + 1] == '\n')))
            {
                text.Append((char)rune.Value);
            }
            else if (rune.Value is (< 0x20 and not '\t') or 0x7F)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{rune.Value:X2}");
            }
            else if (rune.Value is (>= 0x80 and <= 0x9F) or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069))
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:X4}");
            }
            else
            {
                text.Append(rune.ToString());
            }

            i += length;
        }

        return text.ToString();
    }
}
