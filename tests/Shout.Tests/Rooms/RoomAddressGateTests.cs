using System.Buffers;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Rooms;
using Shout.Sessions;
using Shout.Tests.Protocols;

namespace Shout.Tests.Rooms;

/// <summary>
/// Room mode on the message seam for a peer whose address is not confirmed (a UDP source), over an
/// in-memory peer: challenged until it echoes its token, then a room member; quit ends it.
/// </summary>
public sealed class RoomAddressGateTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TestMeters _meters = new();
    private readonly FakeTimeProvider _clock = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task A_peer_is_challenged_until_it_echoes_its_token_then_is_a_member_and_quit_ends_it()
    {
        var hub = new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters));
        var protocols = new RoomProtocols(hub, new ShoutRoomOptions(), 1024, _clock);
        var peer = new RecordingPeer(new Session(new ShoutMetrics(_meters), "u1", TransportKind.Udp, "127.0.0.1:9", 0, null),
            new IPEndPoint(IPAddress.Loopback, 9).Serialize());
        await using var gate = protocols.Start(peer, "", new SessionSettings());

        // Not a member: what it says is answered with its challenge (an answer, within the amplification limit), not said to a room.
        Assert.Equal(new FrameResult(16, FrameAction.Continue), await gate.ReceiveAsync(new ReadOnlySequence<byte>("hello everyone\n\n"u8.ToArray()), end: true, draining: false));
        var challenge = Assert.Single(peer.Answers).Text;
        Assert.Matches("^/join lobby [a-z2-7]{8}$", challenge);
        Assert.Equal(0, hub.Metrics.Members);

        // A made-up token changes nothing.
        await gate.ReceiveAsync(new ReadOnlySequence<byte>("/join lobby zzzzzzzz"u8.ToArray()), end: true, draining: false);
        Assert.Equal(2, peer.Answers.Count);
        Assert.Equal(0, hub.Metrics.Members);

        // Echoing it (with a line after it) makes it a member: OK room, who it is, then its own line's answer.
        var joined = await gate.ReceiveAsync(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(challenge + "\nhi")), end: true, draining: false);
        Assert.Equal(FrameAction.Continue, joined.Action);
        Assert.Equal("OK room lobby", await peer.ReadAsync());
        Assert.StartsWith("* you are ", await peer.ReadAsync(), StringComparison.Ordinal);
        Assert.Equal("HI", await peer.ReadUntilAsync(l => !l.StartsWith('*')));
        Assert.Null(gate.Abandoned);

        Assert.Equal(FrameAction.Quit, (await gate.ReceiveAsync(new ReadOnlySequence<byte>("quit"u8.ToArray()), end: true, draining: false)).Action);
        Assert.Equal(CloseReason.Quit, await gate.EndAsync(CloseReason.Quit).AsTask().WaitAsync(Patience));
        Assert.Equal("QUIT", await peer.ReadUntilAsync(l => !l.StartsWith('*')));
    }

    [Fact]
    public async Task A_member_on_a_confirmed_peer_enters_at_once_and_says_goodbye_at_the_drain()
    {
        var hub = new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters));
        var protocols = new RoomProtocols(hub, new ShoutRoomOptions(), 1024, _clock);
        Assert.NotNull(protocols.Refusal("no/such room"));
        var peer = new RecordingPeer(new Session(new ShoutMetrics(_meters), "w1", TransportKind.Ws, "127.0.0.1:9", 0, null), null);
        await using var member = protocols.Start(peer, "den", new SessionSettings());
        Assert.StartsWith("* you are ", await peer.ReadUntilAsync(l => l.StartsWith("* you are", StringComparison.Ordinal)), StringComparison.Ordinal);

        // A message in two chunks is one line.
        Assert.Equal(FrameAction.Continue, (await member.ReceiveAsync(new ReadOnlySequence<byte>("sp"u8.ToArray()), end: false, draining: false)).Action);
        Assert.Equal(FrameAction.Continue, (await member.ReceiveAsync(new ReadOnlySequence<byte>("lit"u8.ToArray()), end: true, draining: false)).Action);
        Assert.Equal("SPLIT", await peer.ReadUntilAsync(l => !l.StartsWith('*')));

        Assert.Equal(CloseReason.ServerDrain, await member.EndAsync(CloseReason.ServerDrain).AsTask().WaitAsync(Patience));
        Assert.Equal("QUIT", await peer.ReadUntilAsync(l => !l.StartsWith('*')));
    }
}
