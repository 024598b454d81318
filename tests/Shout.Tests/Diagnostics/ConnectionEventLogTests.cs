using Microsoft.Extensions.Time.Testing;
using Shout.Sessions;

namespace Shout.Tests.Diagnostics;

public sealed class ConnectionEventLogTests
{
    [Fact]
    public void Keeps_the_latest_events_oldest_first_within_its_capacity()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var log = new ConnectionEventLog(time, capacity: 3);
        Assert.Empty(log.Latest());
        for (var i = 0; i < 5; i++)
        {
            log.Opened($"c{i}", "tcp", "127.0.0.1:1");
            time.Advance(TimeSpan.FromSeconds(1));
        }

        var latest = log.Latest();
        Assert.Equal(["c2", "c3", "c4"], latest.Select(e => e.ConnectionId));
        Assert.Equal([2L, 3L, 4L], latest.Select(e => e.Sequence));
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromSeconds(1), latest[^1].Time);
    }

    [Theory]
    [InlineData(CloseReason.ClientClosed, "client")]
    [InlineData(CloseReason.Reset, "client")]
    [InlineData(CloseReason.IdleTimeout, "server")]
    [InlineData(CloseReason.ServerDrain, "server")]
    [InlineData(CloseReason.KeepAliveTimeout, "server")]
    public void A_close_records_who_closed_first(CloseReason reason, string closedBy)
    {
        var log = new ConnectionEventLog(TimeProvider.System);
        log.Closed("c", "ws", "[::1]:5", reason, 3, 4, TimeSpan.FromMilliseconds(7));
        var closed = Assert.Single(log.Latest());
        Assert.Equal(ConnectionEventKind.Closed, closed.Kind);
        Assert.Equal(closedBy, closed.ClosedBy);
        Assert.Equal((3L, 4L), (closed.BytesIn, closed.BytesOut));
    }

    [Fact]
    public void A_rejection_is_the_servers_doing()
    {
        var log = new ConnectionEventLog(TimeProvider.System);
        log.Rejected("c", "ws", "127.0.0.1:9", CloseReason.Limit);
        Assert.Equal("server", log.Latest()[0].ClosedBy);
    }
}
