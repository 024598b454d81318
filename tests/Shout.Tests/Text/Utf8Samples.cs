using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Shout.Tests.Text;

/// <summary>Generators for text that stresses the uppercaser: every UTF-8 length, growth, and invalid bytes.</summary>
internal static class Utf8Samples
{
    private static readonly int[] Tricky = ['a', 'z', 'ı', 'ȿ', 'ɐ', 'ß', 'ǅ', 'µ', 'ſ', 0x10428, 0x1F600, 0x7FF, 0x800, 0xFFFF, 0x10FFFF];
    private static readonly byte[] Invalid = [0x80, 0xBF, 0xC0, 0xC1, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF];

    /// <summary>One piece: a valid scalar (tricky or random), or a stray byte that breaks UTF-8.</summary>
    private static Gen<byte[]> Piece { get; } = Gen.Frequency(
        (4, Gen.Choose('a', 'z').Select(Encode)),
        (3, Gen.Elements(Tricky).Select(Encode)),
        (3, Gen.Choose(0x80, 0x10FFFF).Where(Rune.IsValid).Select(Encode)),
        (1, Gen.Elements(Invalid).Select(b => new[] { b })));

    /// <summary>Mixed valid and invalid UTF-8.</summary>
    public static Arbitrary<byte[]> Mixed { get; } = Gen.ListOf(Piece).Select(p => p.SelectMany(x => x).ToArray()).ToArbitrary();

    /// <summary>Only valid UTF-8.</summary>
    public static Arbitrary<byte[]> Valid { get; } = Gen.ListOf(Piece.Where(p => Rune.DecodeFromUtf8(p, out _, out _) == System.Buffers.OperationStatus.Done))
        .Select(p => p.SelectMany(x => x).ToArray()).ToArbitrary();

    /// <summary>Mixed input with cut points: the lengths of the pieces it arrives in.</summary>
    public static Arbitrary<(byte[] Input, int[] Cuts)> MixedWithCuts { get; } =
        (from input in Mixed.Generator
         from cuts in Gen.ListOf(Gen.Choose(0, Math.Max(0, input.Length)))
         select (input, cuts.Distinct().Order().ToArray())).ToArbitrary();

    public static List<byte[]> Split(byte[] input, int[] cuts)
    {
        var chunks = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts.Where(c => c > 0 && c < input.Length))
        {
            chunks.Add(input[start..cut]);
            start = cut;
        }

        chunks.Add(input[start..]);
        return chunks;
    }

    private static byte[] Encode(int scalar)
    {
        var rune = new Rune(scalar);
        var bytes = new byte[rune.Utf8SequenceLength];
        rune.EncodeToUtf8(bytes);
        return bytes;
    }
}
