using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Shout.Text;

/// <summary>
/// The hot path of the uppercaser: whole 32-byte blocks of pure ASCII, uppercased with 256-bit
/// vectors. <see cref="System.Text.Ascii.ToUpper(ReadOnlySpan{byte}, Span{byte}, out int)"/> handles
/// everything else; measured (docs/benchmarks.md), this loop alone is what brings ASCII close to a
/// plain copy, because it stores 32 bytes per step like <c>memmove</c> does.
/// </summary>
internal static class AsciiUpper
{
    /// <summary>Uppercases leading whole blocks that are all ASCII; returns how many bytes it did (a multiple of 32).</summary>
    public static int ToUpperBlocks(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            return 0;
        }

        var length = Math.Min(source.Length, destination.Length);
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        var lowerA = Vector256.Create((byte)'a');
        var letters = Vector256.Create((byte)26);
        var caseBit = Vector256.Create((byte)0x20);
        var done = 0;
        while (done <= length - Vector256<byte>.Count)
        {
            var block = Vector256.LoadUnsafe(ref src, (nuint)done);
            if (block.ExtractMostSignificantBits() != 0)
            {
                break; // a non-ASCII byte: the scalar path decodes it
            }

            // (b - 'a') < 26, unsigned, is "b is a lowercase letter"; those lose the 0x20 bit.
            var isLower = Vector256.LessThan(block - lowerA, letters);
            (block - (isLower & caseBit)).StoreUnsafe(ref dst, (nuint)done);
            done += Vector256<byte>.Count;
        }

        return done;
    }
}
