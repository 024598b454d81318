using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Rooms;
using Shout.Sessions;
using Shout.Tests.Protocols;

namespace Shout.Tests.Rooms;

/// <summary>The message seam's one room member, over a peer that records what it is sent: a message is whole lines, a line owed is one message.</summary>
public sealed class RoomMessageMemberTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TestMeters _meters = new();
    private readonly FakeTimeProvider _clock = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Two_members_hear_each_other_one_message_per_line_and_quit_without_a_newline_ends_one()
    {
        var hub = new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters));
        var (alicePeer, bobPeer) = (new RecordingPeer(Session("a")), new RecordingPeer(Session("b")));
        using var alice = Member(hub, alicePeer);
        using var bob = Member(hub, bobPeer);
        alice.Enter(null, greet: false);
        bob.Enter(null, greet: false);
        await alicePeer.ReadUntilAsync(m => m.EndsWith("joined lobby", StringComparison.Ordinal));

        Assert.Equal(FrameAction.Continue, await alice.MessageAsync("one\ntwo"u8.ToArray()));
        Assert.Equal("ONE", await alicePeer.ReadUntilAsync(m => !m.StartsWith('*')));
        Assert.Equal("TWO", await alicePeer.ReadUntilAsync(_ => true));
        Assert.Equal($"{alice.Member.Nick}: ONE", await bobPeer.ReadUntilAsync(m => !m.StartsWith('*')));
        Assert.Equal($"{alice.Member.Nick}: TWO", await bobPeer.ReadUntilAsync(_ => true));

        Assert.Equal(FrameAction.Quit, await alice.MessageAsync("quit"u8.ToArray()));
        Assert.Equal("QUIT", await alicePeer.ReadUntilAsync(_ => true));
        alice.Leave();
        await alice.Writer.WaitAsync(Patience);
        Assert.Equal($"* {alice.Member.Nick} left lobby", await bobPeer.ReadUntilAsync(_ => true));
    }

    [Fact]
    public async Task A_peer_that_fails_ends_the_writer_and_the_member_completes_without_the_failure_escaping()
    {
        var hub = new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters));
        var peer = new RecordingPeer(Session("c")) { Failure = new IOException("peer gone") };
        using var member = Member(hub, peer);
        member.Enter(null, greet: true);
        await member.Writer.WaitAsync(Patience);
        Assert.True(member.Writer.IsCompletedSuccessfully);
    }

    private RoomMessageMember Member(RoomHub hub, IPeer peer) =>
        new(hub, new ShoutRoomOptions(), new LineFramer(), TimeSpan.FromSeconds(30), _clock, peer);

    private Session Session(string id) => new(new ShoutMetrics(_meters), id, TransportKind.Ws, "test", 0, null);
}
