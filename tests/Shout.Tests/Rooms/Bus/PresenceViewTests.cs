using System.Text;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.Tests.Rooms.Bus;

public sealed class PresenceViewTests
{
    private static readonly Guid Self = Guid.NewGuid();
    private static readonly Guid Other = Guid.NewGuid();
    private static readonly TimeSpan Beat = TimeSpan.FromSeconds(1);
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static BusRefusal Put(PresenceView view, string key, string value, DateTimeOffset now) =>
        view.Take(key, Encoding.UTF8.GetBytes(value), deleted: false, now);

    [Fact]
    public void An_instance_counts_while_it_beats_and_is_dropped_after_three_missed_heartbeats()
    {
        var view = new PresenceView(Self, Beat);
        Assert.Equal(BusRefusal.None, Put(view, PresenceKeys.Heartbeat(Other), "1000", T0));
        Assert.Equal(BusRefusal.None, Put(view, PresenceKeys.Room(Other, "lobby"), "alice\nbob\n", T0));

        Assert.Equal(["alice", "bob"], view.Nicks("lobby", T0 + (Beat * 3)));
        Assert.Empty(view.Nicks("lobby", T0 + (Beat * 3) + TimeSpan.FromMilliseconds(1)));

        // A heartbeat in time keeps it.
        Assert.Equal(BusRefusal.None, Put(view, PresenceKeys.Heartbeat(Other), "1000", T0 + (Beat * 2)));
        Assert.Equal(["alice", "bob"], view.Nicks("lobby", T0 + (Beat * 5)));

        var dead = view.ForgetDead(T0 + (Beat * 6));
        Assert.Equal(Other, Assert.Single(dead).Instance);
        Assert.Equal(["lobby"], dead[0].Rooms);
        Assert.Equal(0, view.Instances);
        Assert.Equal(0, view.Bytes);
    }

    [Fact]
    public void The_period_an_instance_announces_is_the_one_it_is_judged_by()
    {
        var view = new PresenceView(Self, Beat);
        Put(view, PresenceKeys.Heartbeat(Other), "100", T0);
        Put(view, PresenceKeys.Room(Other, "lobby"), "alice\n", T0);
        Assert.Single(view.Nicks("lobby", T0 + TimeSpan.FromMilliseconds(300)));
        Assert.Empty(view.Nicks("lobby", T0 + TimeSpan.FromMilliseconds(301)));
    }

    [Fact]
    public void Rooms_of_an_instance_that_never_beats_are_not_listed_and_are_forgotten_after_three_of_our_heartbeats()
    {
        var view = new PresenceView(Self, Beat);
        Put(view, PresenceKeys.Room(Other, "lobby"), "mallory\n", T0);
        Assert.Empty(view.Nicks("lobby", T0));
        Assert.Empty(view.ForgetDead(T0 + (Beat * 3)));
        Assert.Single(view.ForgetDead(T0 + (Beat * 3) + TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void A_deleted_room_key_or_heartbeat_removes_at_once_and_own_keys_are_ignored()
    {
        var view = new PresenceView(Self, Beat);
        Put(view, PresenceKeys.Heartbeat(Other), "1000", T0);
        Put(view, PresenceKeys.Room(Other, "lobby"), "alice\n", T0);
        Put(view, PresenceKeys.Room(Other, "dev"), "alice\n", T0);
        Put(view, PresenceKeys.Heartbeat(Self), "1000", T0);
        Put(view, PresenceKeys.Room(Self, "lobby"), "me\n", T0);
        Assert.Equal(["alice"], view.Nicks("lobby", T0));

        Assert.Equal(BusRefusal.None, view.Take(PresenceKeys.Room(Other, "lobby"), [], deleted: true, T0));
        Assert.Empty(view.Nicks("lobby", T0));
        Assert.Equal(["alice"], view.Nicks("dev", T0));

        Assert.Equal(BusRefusal.None, view.Take(PresenceKeys.Heartbeat(Other), [], deleted: true, T0));
        Assert.Empty(view.Nicks("dev", T0));
        Assert.Equal(0, view.Instances);
    }

    [Theory]
    [InlineData("x.y", "", (int)BusRefusal.Name)]
    [InlineData("i.nothex", "1000", (int)BusRefusal.Name)]
    [InlineData("i.0123456789ABCDEF0123456789ABCDEF", "1000", (int)BusRefusal.Name)]
    [InlineData("i.0123456789abcdef0123456789abcdef.extra", "1000", (int)BusRefusal.Name)]
    [InlineData("r.0123456789abcdef0123456789abcdef.room-name-longer-than-thirty-two-chars", "a\n", (int)BusRefusal.Name)]
    [InlineData("r.0123456789abcdef0123456789abcdef", "a\n", (int)BusRefusal.Name)]
    [InlineData("i.0123456789abcdef0123456789abcdef", "abc", (int)BusRefusal.Shape)]
    [InlineData("i.0123456789abcdef0123456789abcdef", "-5", (int)BusRefusal.Shape)]
    [InlineData("i.0123456789abcdef0123456789abcdef", "10", (int)BusRefusal.Shape)]
    [InlineData("i.0123456789abcdef0123456789abcdef", "99999999999999999999", (int)BusRefusal.Shape)]
    [InlineData("i.0123456789abcdef0123456789abcdef", "", (int)BusRefusal.Shape)]
    [InlineData("r.0123456789abcdef0123456789abcdef.lobby", "mallory", (int)BusRefusal.Text)]
    [InlineData("r.0123456789abcdef0123456789abcdef.lobby", "\u001b[31mx\n", (int)BusRefusal.Text)]
    [InlineData("r.0123456789abcdef0123456789abcdef.lobby", "caf\u00e9\n", (int)BusRefusal.Text)]
    [InlineData("r.0123456789abcdef0123456789abcdef.lobby", "bad nick\n", (int)BusRefusal.Name)]
    [InlineData("r.0123456789abcdef0123456789abcdef.lobby", "a\n\nb\n", (int)BusRefusal.Name)]
    public void Junk_keys_and_values_are_refused_and_change_nothing(string key, string value, int expected)
    {
        var view = new PresenceView(Self, Beat);
        Assert.Equal((BusRefusal)expected, Put(view, key, value, T0));
        Assert.Equal(0, view.Instances);
        Assert.Equal(0, view.Bytes);
    }

    [Fact]
    public void What_is_held_is_bounded_in_instances_and_in_bytes()
    {
        var view = new PresenceView(Self, Beat);
        for (var i = 0; i < PresenceView.MaxInstances; i++)
        {
            Assert.Equal(BusRefusal.None, Put(view, PresenceKeys.Heartbeat(Guid.NewGuid()), "1000", T0));
        }

        Assert.Equal(BusRefusal.Size, Put(view, PresenceKeys.Heartbeat(Guid.NewGuid()), "1000", T0));

        // Once they are silent, room is made for new ones.
        Assert.Equal(BusRefusal.None, Put(view, PresenceKeys.Heartbeat(Other), "1000", T0 + (Beat * 4)));
        Assert.Equal(1, view.Instances);

        var names = PresenceKeys.NamesValue(Enumerable.Range(0, 100_000).Select(i => "n" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(names.Length <= PresenceKeys.MaxValue);
        var rooms = 0;
        while (view.Take(PresenceKeys.Room(Other, "r" + rooms.ToString(System.Globalization.CultureInfo.InvariantCulture)), names, deleted: false, T0 + (Beat * 4))
            == BusRefusal.None)
        {
            rooms++;
        }

        Assert.True(view.Bytes <= PresenceView.MaxBytes);
        Assert.InRange(rooms, (int)(PresenceView.MaxBytes / PresenceKeys.MaxValue) - 1, (int)(PresenceView.MaxBytes / PresenceKeys.MaxValue) + 1);
    }

    [Fact]
    public void Keys_and_values_written_are_read_back()
    {
        Assert.True(PresenceKeys.TryParse(PresenceKeys.Room(Other, "dev_1"), out var instance, out var room));
        Assert.Equal((Other, "dev_1"), (instance, room));
        Assert.True(PresenceKeys.TryParse(PresenceKeys.Heartbeat(Other), out instance, out room));
        Assert.Equal((Other, null), (instance, room));
        Assert.True(PresenceKeys.TryParseHeartbeat(PresenceKeys.HeartbeatValue(TimeSpan.FromMilliseconds(250)), out var every));
        Assert.Equal(TimeSpan.FromMilliseconds(250), every);
        Assert.Equal(BusRefusal.None, PresenceKeys.ParseNames(PresenceKeys.NamesValue(["a", "B-2"]), out var nicks));
        Assert.Equal(["a", "B-2"], nicks);
    }
}
