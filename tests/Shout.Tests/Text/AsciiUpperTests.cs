using Shout.Text;

namespace Shout.Tests.Text;

/// <summary>
/// The 32-byte vector path: every ASCII byte at every position of long runs, runs broken by a
/// non-ASCII character anywhere, and destinations shorter than the input.
/// </summary>
public sealed class AsciiUpperTests
{
    [Fact]
    public void Every_ascii_byte_at_every_position_of_a_long_run_matches_the_reference()
    {
        var input = new byte[96];
        for (var value = 0; value < 128; value++)
        {
            for (var at = 0; at < input.Length; at++)
            {
                input.AsSpan().Fill((byte)'q');
                input[at] = (byte)value;
                Assert.Equal(ReferenceUpper.Apply(input), ShoutCase.ToUpper(input));
            }
        }
    }

    [Fact]
    public void Runs_broken_by_non_ascii_anywhere_match_the_reference()
    {
        var random = new Random(20261125);
        byte[][] breakers = [[0xC3, 0xA9], [0xC8, 0xBF], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xFF], [0xC3]];
        for (var trial = 0; trial < 2000; trial++)
        {
            var ascii = new byte[random.Next(0, 130)];
            for (var i = 0; i < ascii.Length; i++)
            {
                ascii[i] = (byte)random.Next(0, 128);
            }

            var at = random.Next(0, ascii.Length + 1);
            byte[] input = [.. ascii[..at], .. breakers[random.Next(breakers.Length)], .. ascii[at..]];
            Assert.Equal(ReferenceUpper.Apply(input), ShoutCase.ToUpper(input));
        }
    }

    [Fact]
    public void A_short_destination_stops_at_a_block_boundary_or_before_without_losing_input()
    {
        var input = new byte[100];
        input.AsSpan().Fill((byte)'z');
        for (var room = 0; room < input.Length; room++)
        {
            var output = new byte[room];
            ShoutCase.ToUpper(input, output, isFinalBlock: true, out var consumed, out var written);
            Assert.Equal(room, consumed);
            Assert.Equal(room, written);
            Assert.All(output, b => Assert.Equal((byte)'Z', b));
        }
    }
}
