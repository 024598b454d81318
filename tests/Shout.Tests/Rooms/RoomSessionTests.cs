using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Protocols.Framing;
using Shout.Rooms;

namespace Shout.Tests.Rooms;

/// <summary>The lines of one read: formatted once, delivered in order around the commands among them.</summary>
public sealed class RoomSessionTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Lines_before_a_command_go_out_before_it_and_lines_after_it_carry_the_new_name()
    {
        var (hub, alice, bob) = TwoMembers(1024);
        using var a = alice;
        using var b = bob;

        var session = new RoomSession(hub, alice, new LineFramer());
        var frame = await session.ProcessAsync(Input("one\ntwo\n/nick alice\nthree\nunfinished"), isCompleted: false);

        Assert.Equal(FrameAction.Continue, frame.Action);
        Assert.Equal("one\ntwo\n/nick alice\nthree\n".Length, frame.Consumed);
        Assert.Equal(["guest1: ONE\nguest1: TWO\n", "* guest1 is now alice\n", "alice: THREE\n"], Drain(bob));
        Assert.Equal(["ONE\nTWO\n", "OK nick alice\n", "THREE\n"], Drain(alice));
        // Bob's join notice to alice, then four lines to each (counted in lines, not runs).
        Assert.Equal(1 + 4 + 4, hub.Metrics.Deliveries);
    }

    [Fact]
    public async Task A_read_of_many_lines_goes_out_in_runs_of_a_quarter_of_the_queue()
    {
        var (hub, alice, bob) = TwoMembers(16);
        using var a = alice;
        using var b = bob;

        var session = new RoomSession(hub, alice, new LineFramer());
        await session.ProcessAsync(Input(string.Concat(Enumerable.Range(0, 10).Select(i => $"l{i}\n"))), isCompleted: false);

        var runs = Drain(bob);
        Assert.Equal([4, 4, 2], runs.Select(r => r.Count(c => c == '\n')));
        Assert.Equal(string.Concat(Enumerable.Range(0, 10).Select(i => $"guest1: L{i}\n")), string.Concat(runs));
    }

    [Fact]
    public async Task Quit_ends_the_run_and_is_answered_to_the_sender_only()
    {
        var (hub, alice, bob) = TwoMembers(1024);
        using var a = alice;
        using var b = bob;

        var session = new RoomSession(hub, alice, new LineFramer());
        var frame = await session.ProcessAsync(Input("bye\nquit\nnever\n"), isCompleted: false);

        Assert.Equal(FrameAction.Quit, frame.Action);
        Assert.Equal("bye\nquit\n".Length, frame.Consumed);
        Assert.Equal(["BYE\nQUIT\n"], Drain(alice));
        Assert.Equal(["guest1: BYE\n"], Drain(bob));
    }

    [Fact]
    public async Task A_message_is_whole_lines_its_last_needs_no_terminator_and_quit_ends_it_without_one()
    {
        var (hub, alice, bob) = TwoMembers(1024);
        using var a = alice;
        using var b = bob;

        var session = new RoomSession(hub, alice, new LineFramer());
        var frame = await session.MessageAsync("one\ntwo"u8.ToArray());
        Assert.Equal(FrameAction.Continue, frame.Action);
        Assert.Equal("one\ntwo".Length, frame.Consumed);
        // The room's copy of an unterminated line is a whole line to every member (a stream member reads lines).
        Assert.Equal("guest1: ONE\nguest1: TWO\n", string.Concat(Drain(bob)));
        Assert.Equal("ONE\nTWO", string.Concat(Drain(alice)));

        frame = await session.MessageAsync("quit"u8.ToArray());
        Assert.Equal(FrameAction.Quit, frame.Action);
        Assert.Equal(["QUIT"], Drain(alice));
        Assert.Empty(Drain(bob));
    }

    public void Dispose() => _meters.Dispose();

    /// <summary>A room of two, alice and bob, each with a queue of <paramref name="queue"/> lines, their join notices taken.</summary>
    private (RoomHub Hub, RoomMember Alice, RoomMember Bob) TwoMembers(int queue)
    {
        var hub = new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters));
        var alice = Member(hub, queue);
        var bob = Member(hub, queue);
        hub.Enter(alice);
        hub.Enter(bob);
        Drain(alice);
        Drain(bob);
        return (hub, alice, bob);
    }

    private RoomMember Member(RoomHub hub, int queue) =>
        new(hub.NextId(), "tcp", new ShoutRoomOptions { QueueLength = queue }, TimeSpan.FromSeconds(30), _clock, hub.Metrics, _ => Assert.Fail("kicked"));

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
