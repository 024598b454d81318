using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// WebSocket edges a well-behaved client library never reaches (issue 19, item 10), written at the
/// frame level with <see cref="RawWebSocket"/>: pings are not activity, a frame declaring more than
/// the message limit is refused before its payload, a close frame's reason is checked.
/// </summary>
public sealed class WebSocketEdgeTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);
    private const int PingRounds = 3;

    [Fact]
    public async Task Row04_a_client_that_only_pings_is_closed_at_the_idle_timeout()
    {
        var clock = new WatchedClock();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Web.Address = new Uri("http://127.0.0.1:0");
            o.IdleTimeout = Idle;
            o.Web.KeepAliveInterval = TimeSpan.Zero;
        }, clock: clock);
        using var socket = await RawWebSocket.ConnectAsync(server.Web());
        await socket.SendFrameAsync(0x1, "hi"u8.ToArray());
        Assert.Equal("HI"u8.ToArray(), (await socket.ReadFrameAsync()).Payload);

        // Ping all the way to one tick before the deadline; each pong proves the server read the ping.
        var step = TimeSpan.FromSeconds(10) - Tick;
        for (var i = 0; i < PingRounds; i++)
        {
            clock.Advance(step);
            await socket.SendFrameAsync(0x9, "are you there"u8.ToArray());
            var (opcode, payload) = await socket.ReadFrameAsync();
            Assert.Equal(0xA, opcode);
            Assert.Equal("are you there"u8.ToArray(), payload);
        }

        Assert.Equal(0, server.Metrics.ClosedFor(CloseReason.IdleTimeout));
        clock.Advance(Idle - (step * PingRounds));
        Assert.Equal(1000, await socket.ReadCloseAsync());
        await socket.SendFrameAsync(0x8, [0x03, 0xE8]);
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.IdleTimeout));
    }

    [Theory]
    [InlineData(0x7FFF_FFFF_FFFF_FFFFUL)]
    [InlineData(0x8000_0000_0000_0000UL)]
    [InlineData(1024UL * 1024 + 1)]
    public async Task Row09_a_frame_declaring_more_than_the_message_limit_is_closed_at_once_with_1009(ulong declared)
    {
        // The idle timeout (5 min) must not be what ends it: nothing of the payload is ever sent.
        await using var server = await WebServer.StartAsync();
        using var socket = await RawWebSocket.ConnectAsync(server.Web());
        await socket.SendHeaderAsync(0x2, declared);
        var code = await socket.ReadCloseAsync(TimeSpan.FromSeconds(10));

        // 2^63 and above is no valid length (its top bit must be 0): the runtime refuses it with 1002 first.
        Assert.Equal(declared >= 0x8000_0000_0000_0000UL ? 1002 : 1009, code);
        socket.Dispose();
        await server.WaitForNoConnectionsAsync();
        Assert.Contains(server.Server.Services.GetEvents(), e => e.Reason is CloseReason.MessageTooBig or CloseReason.ProtocolError);
    }

    /// <summary>
    /// The runtime's frame parser checks a close frame's reason and answers invalid UTF-8 with 1002
    /// (protocol error), before Shout sees the frame. RFC 6455 names 1007 for data inconsistent with
    /// its message type; Autobahn's case 7.5.1 (a close reason that is not UTF-8) accepts 1002 or 1007.
    /// Shout keeps the runtime's 1002 (docs/reliability.md): what matters, a prompt close with a
    /// protocol code and nothing answered, holds.
    /// </summary>
    [Fact]
    public async Task Row11_a_close_frame_whose_reason_is_not_UTF8_is_closed_at_once_as_a_protocol_error()
    {
        await using var server = await WebServer.StartAsync();
        using var socket = await RawWebSocket.ConnectAsync(server.Web());
        await socket.SendFrameAsync(0x8, [0x03, 0xE8, (byte)'b', 0xFF, 0xC3, 0x28]);
        Assert.Equal(1002, await socket.ReadCloseAsync(TimeSpan.FromSeconds(10)));
        socket.Dispose();
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(CloseReason.ProtocolError, server.Server.Services.GetEvents()[^1].Reason);
    }
}
