using System.Text;

namespace Shout.Benchmarks;

/// <summary>The kinds of text the server sees: plain ASCII, mostly ASCII with some letters beyond it, and non-ASCII.</summary>
public enum TextKind
{
    Ascii,
    Mixed,
    NonAscii,
}

public static class Inputs
{
    private const string AsciiSample = "hello world, the quick brown fox jumps over the lazy dog 0123456789\n";
    private const string MixedSample = "héllo wörld, grüße aus köln; ça va? añejo ı ſ — fine\n";
    private const string NonAsciiSample = "привет мир ελληνικά ÿ ǆ ȿ ꭰ 𐐨𐐩 ѣ\n";

    /// <summary>UTF-8 text of the kind, <paramref name="size"/> bytes, cut at a character boundary.</summary>
    public static byte[] Text(TextKind kind, int size)
    {
        var sample = kind switch
        {
            TextKind.Ascii => AsciiSample,
            TextKind.Mixed => MixedSample,
            _ => NonAsciiSample,
        };
        var builder = new StringBuilder();
        while (Encoding.UTF8.GetByteCount(builder.ToString()) < size)
        {
            builder.Append(sample);
        }

        var bytes = Encoding.UTF8.GetBytes(builder.ToString());
        var length = size;
        while (length < bytes.Length && (bytes[length] & 0xC0) == 0x80)
        {
            length--;
        }

        return bytes[..length];
    }
}
