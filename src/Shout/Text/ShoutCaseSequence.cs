using System.Buffers;
using System.Text;

namespace Shout.Text;

/// <summary>Uppercasing over buffer sequences (pipe buffers), on top of the span transform.</summary>
internal static class ShoutCaseSequence
{
    /// <summary>
    /// Uppercases <paramref name="source"/> into <paramref name="destination"/>, joining characters
    /// split between segments.
    /// </summary>
    /// <param name="source">UTF-8 input, possibly in several segments.</param>
    /// <param name="destination">Where the output goes.</param>
    /// <param name="isFinalBlock">See <see cref="ShoutCase.ToUpper(ReadOnlySpan{byte}, Span{byte}, bool, out int, out int)"/>.</param>
    /// <returns>
    /// The number of input bytes consumed. Unless <paramref name="isFinalBlock"/>, up to 3 bytes of an
    /// incomplete character at the end stay unconsumed; they must be passed again with what follows.
    /// </returns>
    public static long ToUpper(in ReadOnlySequence<byte> source, IBufferWriter<byte> destination, bool isFinalBlock)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (source.IsSingleSegment)
        {
            return ToUpperSpan(source.FirstSpan, destination, isFinalBlock);
        }

        Span<byte> carry = stackalloc byte[ShoutCase.MaxUtf8BytesPerRune];
        var carryLength = 0;
        long consumed = 0;
        var position = source.Start;
        while (source.TryGet(ref position, out var memory))
        {
            var isLast = position.GetObject() is null || source.Slice(position).IsEmpty;
            var span = memory.Span;
            var start = 0;
            if (carryLength > 0)
            {
                var take = Math.Min(ShoutCase.MaxUtf8BytesPerRune - carryLength, span.Length);
                span[..take].CopyTo(carry[carryLength..]);
                var joint = carry[..(carryLength + take)];
                var status = Rune.DecodeFromUtf8(joint, out var rune, out var runeLength);
                if (status == OperationStatus.NeedMoreData)
                {
                    // The segment was too short to finish the character; keep carrying it.
                    carryLength += take;
                    if (!isLast)
                    {
                        continue;
                    }

                    if (!isFinalBlock)
                    {
                        return consumed;
                    }

                    Write(joint, destination);
                    return consumed + joint.Length;
                }

                if (status == OperationStatus.Done)
                {
                    var upper = ShoutCase.ToUpper(rune);
                    var dst = destination.GetSpan(ShoutCase.MaxUtf8BytesPerRune);
                    destination.Advance(upper.EncodeToUtf8(dst));
                }
                else
                {
                    Write(joint[..runeLength], destination);
                }

                consumed += runeLength;
                start = runeLength - carryLength;
                carryLength = 0;
            }

            var rest = span[start..];
            var used = ToUpperSpan(rest, destination, isFinalBlock && isLast);
            consumed += used;
            if (used < rest.Length)
            {
                if (isLast)
                {
                    return consumed;
                }

                rest[(int)used..].CopyTo(carry);
                carryLength = rest.Length - (int)used;
            }
        }

        return consumed;
    }

    private static long ToUpperSpan(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, bool isFinalBlock)
    {
        long total = 0;
        while (!source.IsEmpty)
        {
            // Ask for what ASCII needs (output = input), not the 1.5x worst case: a hint larger than
            // Kestrel's 4 KiB pool blocks sends the pipe to unpinned ArrayPool arrays on every read.
            // Output that grows past the span comes back as DestinationTooSmall and loops; at least
            // one whole character always fits, so the loop always advances.
            var dst = destination.GetSpan(Math.Clamp(source.Length, ShoutCase.MaxUtf8BytesPerRune, 4096));
            var status = ShoutCase.ToUpper(source, dst, isFinalBlock, out var consumed, out var written);
            destination.Advance(written);
            total += consumed;
            source = source[consumed..];
            if (status == OperationStatus.NeedMoreData)
            {
                break;
            }
        }

        return total;
    }

    private static void Write(ReadOnlySpan<byte> bytes, IBufferWriter<byte> destination)
    {
        bytes.CopyTo(destination.GetSpan(bytes.Length));
        destination.Advance(bytes.Length);
    }
}
