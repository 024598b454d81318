using System.Buffers.Binary;
using Shout.Transports.WebSockets;

namespace Shout.Tests.Transports.WebSockets;

/// <summary>The frame header watch: which declared lengths it refuses at the header (row 9 over WebSocket).</summary>
public sealed class FrameHeaderWatchTests
{
    private const long Limit = 1024 * 1024;

    // A masked binary frame header with a 64-bit extended length (RFC 6455 §5.2), mask key included.
    private static byte[] Header(ulong length, bool fin = true)
    {
        var header = new byte[14];
        header[0] = (byte)((fin ? 0x80 : 0) | 0x2);
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), length);
        return header;
    }

    [Theory]
    [InlineData(Limit + 1)]
    [InlineData(long.MaxValue)]
    public void A_valid_length_over_the_limit_is_refused_at_the_header(long declared)
    {
        var watch = new FrameHeaderWatch(Limit);
        Assert.True(watch.Feed(Header((ulong)declared)));
    }

    [Fact]
    public void A_length_at_the_limit_is_taken()
    {
        var watch = new FrameHeaderWatch(Limit);
        Assert.False(watch.Feed(Header(Limit)));
    }

    /// <summary>2^63 and above are no length at all: the runtime refuses them (1002); the watch stays out of it, so the code is not a race.</summary>
    [Theory]
    [InlineData(0x8000_0000_0000_0000UL)]
    [InlineData(ulong.MaxValue)]
    public void A_length_with_its_top_bit_set_is_left_to_the_runtime(ulong declared)
    {
        var watch = new FrameHeaderWatch(Limit);
        Assert.False(watch.Feed(Header(declared)));
    }

    [Fact]
    public void Fragments_add_up_to_their_message()
    {
        var watch = new FrameHeaderWatch(Limit);
        var half = (ulong)Limit / 2;
        Assert.False(watch.Feed([.. Header(half, fin: false), .. new byte[half]]));
        Assert.True(watch.Feed(Header(half + 1)));
    }
}
