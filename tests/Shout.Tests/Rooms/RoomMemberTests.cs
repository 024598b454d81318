using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Shout.Rooms;

namespace Shout.Tests.Rooms;

/// <summary>A member's queue and the slow-member policy, on a fake clock.</summary>
public sealed class RoomMemberTests : IDisposable
{
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(30);

    private readonly TestMeters _meters = new();
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void Kick_a_member_whose_queue_stays_full_for_the_write_timeout_not_a_tick_before()
    {
        var metrics = new RoomMetrics(_meters);
        var kicked = 0;
        using var member = new RoomMember(1, "tcp", new ShoutRoomOptions { QueueLength = 4 }, WriteTimeout, _clock, metrics, _ => kicked++);
        var queued = 0;
        for (var i = 0; i < 6; i++)
        {
            queued += member.Deliver(new byte[] { (byte)i });
        }

        Assert.Equal(4, queued);
        Assert.Equal(2, metrics.Drops);
        _clock.Advance(WriteTimeout - TimeSpan.FromTicks(1));
        Assert.Equal(0, kicked);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, kicked);
        Assert.True(member.Kicked);
        Assert.Equal(1, metrics.Kicks);
    }

    [Fact]
    public void A_queue_that_drains_restarts_the_clock()
    {
        var metrics = new RoomMetrics(_meters);
        var kicked = 0;
        using var member = new RoomMember(1, "tcp", new ShoutRoomOptions { QueueLength = 1 }, WriteTimeout, _clock, metrics, _ => kicked++);
        member.Deliver(new byte[] { 1 });
        member.Deliver(new byte[] { 2 });
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(member.TryTake(out _));
        member.Deliver(new byte[] { 3 });
        member.Deliver(new byte[] { 4 });

        // 40 s since it first filled, but only 20 s full at a stretch.
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, kicked);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, kicked);
    }

    [Fact]
    public void With_drop_the_oldest_lines_go_counted_and_the_newest_stay()
    {
        var metrics = new RoomMetrics(_meters);
        using var member = new RoomMember(1, "tcp", new ShoutRoomOptions { QueueLength = 3, SlowMember = SlowMemberPolicy.Drop },
            WriteTimeout, _clock, metrics, _ => Assert.Fail("kicked in drop mode"));
        for (var i = 0; i < 10; i++)
        {
            member.Deliver(new byte[] { (byte)i });
        }

        _clock.Advance(WriteTimeout * 2);
        Assert.Equal(7, metrics.Drops);
        var left = new List<byte>();
        while (member.TryTake(out var line))
        {
            left.Add(line.Span[0]);
        }

        Assert.Equal([7, 8, 9], left);
        Assert.False(member.Kicked);
    }

    public void Dispose() => _meters.Dispose();
}
