using System.Buffers;
using System.Text;
using Shout.Text;

namespace Shout.Tests.Text;

/// <summary>
/// The obvious, slow definition of Shout's uppercasing: decode each scalar of the whole input;
/// valid ones are mapped, each maximal invalid subsequence is copied. The fast streaming code
/// must agree with it on every input and every split.
/// </summary>
internal static class ReferenceUpper
{
    public static byte[] Apply(ReadOnlySpan<byte> input)
    {
        var output = new List<byte>(input.Length * 2);
        Span<byte> encoded = stackalloc byte[4];
        while (!input.IsEmpty)
        {
            var status = Rune.DecodeFromUtf8(input, out var rune, out var length);
            if (status == OperationStatus.Done)
            {
                var n = ShoutCase.ToUpper(rune).EncodeToUtf8(encoded);
                output.AddRange(encoded[..n]);
            }
            else
            {
                output.AddRange(input[..length]);
            }

            input = input[length..];
        }

        return [.. output];
    }
}
