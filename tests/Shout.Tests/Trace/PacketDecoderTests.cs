using Shout.Trace;

namespace Shout.Tests.Trace;

public sealed class PacketDecoderTests
{
    private readonly Segments _s = new();

    [Fact]
    public void The_payload_length_comes_from_the_headers_when_the_capture_kept_only_the_start()
    {
        var payload = new string('a', 1000);
        var packet = _s.Tcp(true, "PSH", 1, 1, payload, keep: 14 + 20 + 20 + 10);
        Assert.Equal(1000, packet.PayloadLength);
        Assert.Equal("aaaaaaaaaa", System.Text.Encoding.ASCII.GetString(packet.Payload.Span));
    }

    [Fact]
    public void Flags_numbers_and_ends_are_read_from_the_segment()
    {
        var packet = _s.Tcp(false, "FIN", 6, 7);
        Assert.Equal(TcpControlBits.Fin | TcpControlBits.Ack, packet.Flags);
        Assert.Equal(unchecked(Segments.Y + 6), packet.Sequence);
        Assert.Equal(Segments.X + 7, packet.Acknowledgement);
        Assert.Equal(Segments.Server, packet.Source);
        Assert.Equal(Segments.Client, packet.Destination);
        Assert.Equal(0, packet.PayloadLength);
    }

    [Fact]
    public void A_frame_that_is_not_ip_decodes_to_nothing() =>
        Assert.Null(PacketDecoder.Decode(PacketDotNet.LinkLayers.Ethernet, new byte[14], DateTimeOffset.UnixEpoch));

    [Theory]
    [InlineData("hello", "hello")]
    [InlineData("a\nb\r\t\\", "a\\nb\\r\\t\\\\")]
    [InlineData("\u0001x", ".x")]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwx…")]
    public void The_preview_is_printable_and_short(string payload, string preview) =>
        Assert.Equal(preview, PayloadPreview.Text(System.Text.Encoding.Latin1.GetBytes(payload)));

    [Fact]
    public void A_record_survives_a_json_round_trip_with_its_type()
    {
        var line = new TracePacketLine(3, DateTimeOffset.UnixEpoch, "127.0.0.1:1", "127.0.0.1:2", "client", "SYN", "x", 0, null, null, 0, null,
            "SYN_SENT", null, false, 0);
        var json = TraceJson.Serialize(line);
        Assert.Contains("\"type\":\"packet\"", json, StringComparison.Ordinal);
        Assert.Contains("\"clientState\":\"SYN_SENT\"", json, StringComparison.Ordinal);
        Assert.Equal(line, TraceJson.Deserialize(json));
    }
}
