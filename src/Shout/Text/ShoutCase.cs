using System.Buffers;
using System.Text;

namespace Shout.Text;

/// <summary>
/// Uppercases UTF-8 text the way the tutorial's Go server does (<c>strings.ToUpper</c>, i.e. Go's
/// <c>unicode.ToUpper</c> per code point: the Unicode simple uppercase mapping), with two deliberate
/// improvements: a character split across calls is uppercased whole (the caller keeps the unconsumed
/// tail and passes it again), and bytes that are not valid UTF-8 pass through unchanged instead of
/// becoming U+FFFD. All members are pure and thread-safe.
/// </summary>
public static class ShoutCase
{
    /// <summary>
    /// The most bytes one input byte can become: a 2-byte character can map to a 3-byte one
    /// (U+023F → U+2C7E), so output is at most 1.5× input. <see cref="MaxOutputLength"/> uses it.
    /// </summary>
    public const int MaxUtf8BytesPerRune = 4;

    /// <summary>An upper bound on the output length for <paramref name="inputLength"/> input bytes.</summary>
    public static int MaxOutputLength(int inputLength) => checked(inputLength + ((inputLength + 1) / 2));

    /// <summary>
    /// The uppercase of one code point: .NET's invariant simple mapping, except the two letters
    /// that Go maps into ASCII and .NET's invariant casing deliberately leaves alone: U+0131 (ı → I)
    /// and U+017F (ſ → S). Shout follows Go there. Letters newer than Go 1.19's Unicode tables follow .NET.
    /// </summary>
    public static Rune ToUpper(Rune value) => value.Value switch
    {
        < 0x80 => (uint)(value.Value - 'a') <= 'z' - 'a' ? new Rune(value.Value - 0x20) : value,
        0x131 => new Rune('I'),
        0x17F => new Rune('S'),
        _ => Rune.ToUpperInvariant(value),
    };

    /// <summary>
    /// Uppercases <paramref name="source"/> into <paramref name="destination"/>.
    /// </summary>
    /// <param name="source">UTF-8 input; invalid sequences are copied unchanged.</param>
    /// <param name="destination">Output; needs at most <see cref="MaxOutputLength"/> bytes.</param>
    /// <param name="isFinalBlock">
    /// False when more input may follow: an incomplete character at the end is then left unconsumed
    /// (status <see cref="OperationStatus.NeedMoreData"/>) so the caller can pass it again with the rest.
    /// True at end of input: an incomplete tail is invalid and copied unchanged.
    /// </param>
    /// <param name="bytesConsumed">Input bytes fully processed.</param>
    /// <param name="bytesWritten">Output bytes written.</param>
    /// <returns>Done, NeedMoreData (incomplete tail kept) or DestinationTooSmall.</returns>
    public static OperationStatus ToUpper(ReadOnlySpan<byte> source, Span<byte> destination, bool isFinalBlock,
        out int bytesConsumed, out int bytesWritten)
    {
        var consumed = 0;
        var written = 0;
        var status = OperationStatus.Done;
        while (consumed < source.Length)
        {
            var blocks = AsciiUpper.ToUpperBlocks(source[consumed..], destination[written..]);
            consumed += blocks;
            written += blocks;
            if (consumed == source.Length)
            {
                break; // all whole ASCII blocks: the common case for short English messages
            }

            // Vectorized fast path: copies and uppercases the ASCII run, stopping at the first non-ASCII byte.
            var asciiStatus = Ascii.ToUpper(source[consumed..], destination[written..], out var asciiWritten);
            consumed += asciiWritten;
            written += asciiWritten;
            if (asciiStatus == OperationStatus.Done)
            {
                break;
            }

            if (asciiStatus == OperationStatus.DestinationTooSmall && written == destination.Length)
            {
                status = OperationStatus.DestinationTooSmall;
                break;
            }

            var decode = Rune.DecodeFromUtf8(source[consumed..], out var rune, out var runeLength);
            if (decode == OperationStatus.NeedMoreData && !isFinalBlock)
            {
                status = OperationStatus.NeedMoreData;
                break;
            }

            var free = destination[written..];
            if (decode == OperationStatus.Done)
            {
                if (!ToUpper(rune).TryEncodeToUtf8(free, out var encoded))
                {
                    status = OperationStatus.DestinationTooSmall;
                    break;
                }

                written += encoded;
            }
            else
            {
                // Invalid (or incomplete at end of input): pass the maximal invalid subsequence through.
                if (free.Length < runeLength)
                {
                    status = OperationStatus.DestinationTooSmall;
                    break;
                }

                source.Slice(consumed, runeLength).CopyTo(free);
                written += runeLength;
            }

            consumed += runeLength;
        }

        bytesConsumed = consumed;
        bytesWritten = written;
        return status;
    }

    /// <summary>Uppercases a whole, complete input (invalid or truncated bytes pass through).</summary>
    public static byte[] ToUpper(ReadOnlySpan<byte> source)
    {
        var buffer = source.Length <= 1024 ? stackalloc byte[MaxOutputLength(source.Length)] : new byte[MaxOutputLength(source.Length)];
        ToUpper(source, buffer, isFinalBlock: true, out _, out var written);
        return buffer[..written].ToArray();
    }

    /// <summary>Uppercases a string (convenience for clients and tests).</summary>
    public static string ToUpper(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Encoding.UTF8.GetString(ToUpper(Encoding.UTF8.GetBytes(text)));
    }
}
