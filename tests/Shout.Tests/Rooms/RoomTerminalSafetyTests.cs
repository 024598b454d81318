using System.Buffers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Protocols.Framing;
using Shout.Rooms;

namespace Shout.Tests.Rooms;

/// <summary>Row 29 in the room's session: controls reach others escaped; names are unique in any case.</summary>
public sealed class RoomTerminalSafetyTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Others_get_controls_escaped_and_the_sender_gets_its_line_as_line_mode_answers_it()
    {
        var (hub, alice, bob) = TwoMembers();
        using var a = alice;
        using var b = bob;

        var session = new RoomSession(hub, alice, new LineFramer());
        await session.ProcessAsync(Input("x\rbob: i am bob\n\u001b[2J\u009b31m\r\n"), isCompleted: false);

        Assert.Equal("guest1: X\\x0DBOB: I AM BOB\nguest1: \\x1B[2J\\u009B31M\r\n", string.Concat(Drain(bob)));
        Assert.Equal("X\rBOB: I AM BOB\n\u001b[2J\u009b31M\r\n", string.Concat(Drain(alice)));
    }

    [Fact]
    public async Task A_name_with_a_control_is_refused_with_one_error_line()
    {
        var (hub, alice, bob) = TwoMembers();
        using var a = alice;
        using var b = bob;

        var session = new RoomSession(hub, alice, new LineFramer());
        await session.ProcessAsync(Input("/nick bob\u001b[2J\n/join lob\u009bby\n"), isCompleted: false);

        Assert.Equal(
            ["ERR usage: /nick NAME (1-32 letters, digits, _ or -)\n", "ERR usage: /join ROOM (1-32 letters, digits, _ or -)\n"],
            Drain(alice));
        Assert.Empty(Drain(bob));
        Assert.Equal("guest1", alice.Nick);
        Assert.Equal("lobby", alice.Room);
    }

    [Theory]
    [InlineData("bob")]
    [InlineData("BOB")]
    [InlineData("Bob")]
    public void A_nickname_taken_in_any_case_is_taken(string nick)
    {
        var (hub, alice, bob) = TwoMembers();
        using var a = alice;
        using var b = bob;
        Assert.True(hub.Rename(bob, "bob"));

        Assert.False(hub.Rename(alice, nick));
        Assert.Equal("guest1", alice.Nick);
    }

    [Fact]
    public void A_member_may_change_the_case_of_its_own_name_and_the_old_name_is_free_after()
    {
        var (hub, alice, bob) = TwoMembers();
        using var a = alice;
        using var b = bob;
        Assert.True(hub.Rename(alice, "alice"));

        Assert.True(hub.Rename(alice, "ALICE"));
        Assert.Equal("ALICE", alice.Nick);
        Assert.False(hub.Rename(bob, "Alice"));
        Assert.True(hub.Rename(alice, "carol"));
        Assert.True(hub.Rename(bob, "alice"));
    }

    [Fact]
    public void A_guest_name_skips_a_name_taken_in_another_case()
    {
        var hub = new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters));
        using var first = Member(hub);
        hub.Enter(first);
        Assert.True(hub.Rename(first, "GUEST2"));
        using var second = Member(hub);
        hub.Enter(second);

        Assert.Equal("guest2-2", second.Nick);
    }

    public void Dispose() => _meters.Dispose();

    private (RoomHub Hub, RoomMember Alice, RoomMember Bob) TwoMembers()
    {
        var hub = new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters));
        var alice = Member(hub);
        var bob = Member(hub);
        hub.Enter(alice);
        hub.Enter(bob);
        Drain(alice);
        Drain(bob);
        return (hub, alice, bob);
    }

    private RoomMember Member(RoomHub hub) =>
        new(hub.NextId(), "tcp", new ShoutRoomOptions { QueueLength = 1024 }, TimeSpan.FromSeconds(30), _clock, hub.Metrics, _ => Assert.Fail("kicked"));

    private static ReadOnlySequence<byte> Input(string text) => new(Encoding.UTF8.GetBytes(text));

    private static List<string> Drain(RoomMember member)
    {
        var runs = new List<string>();
        while (member.TryTake(out var lines))
        {
            runs.Add(Encoding.UTF8.GetString(lines.Span));
        }

        return runs;
    }
}
