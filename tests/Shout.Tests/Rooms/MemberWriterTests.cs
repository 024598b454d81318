using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Rooms;
using Shout.Sessions;
using Shout.Tests.Protocols;
using Shout.Tests.Transports.Streams;
using Shout.Transports.Streams;

namespace Shout.Tests.Rooms;

/// <summary>
/// A room member's one writer on either seam: over a message peer one queued line is one message,
/// in order, without its terminator; over a stream the queued lines go out as they are; a peer
/// that is gone ends the writer and the member, without the failure escaping.
/// </summary>
public sealed class MemberWriterTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly FakeTimeProvider _clock = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task On_the_message_seam_each_queued_line_goes_out_as_one_message_in_order_and_the_writer_ends_with_the_member()
    {
        using var member = Member("ws");
        member.Deliver(Encoding.UTF8.GetBytes("a: one\nb: two\r\n"), count: 2);
        member.Deliver(Encoding.UTF8.GetBytes("c: three\n"));
        var peer = new RecordingPeer(Session(TransportKind.Ws));

        var writer = MemberWriter.RunAsync(member, peer);
        member.Complete();
        await writer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["a: one", "b: two", "c: three"], [await peer.ReadAsync(), await peer.ReadAsync(), await peer.ReadAsync()]);
    }

    [Fact]
    public async Task On_a_stream_the_queued_lines_go_out_as_they_are_and_are_counted()
    {
        using var member = Member("tcp");
        member.Deliver(Encoding.UTF8.GetBytes("a: one\nb: two\r\n"), count: 2);
        member.Deliver(Encoding.UTF8.GetBytes("c: three\n"));
        var connection = new MemoryConnection();
        var peer = new StreamPeer(connection, connection.Transport.Input);
        var session = Session(TransportKind.Tcp);
        using var timeouts = new SessionTimeouts(new SessionSettings(), _clock, new ShoutMetrics(_meters), peer);
        peer.Open(session, timeouts);

        var writer = MemberWriter.RunAsync(member, peer);
        member.Complete();
        await writer.WaitAsync(TimeSpan.FromSeconds(10));
        await connection.Transport.Output.CompleteAsync();

        var sent = "a: one\nb: two\r\nc: three\n";
        var read = await connection.ClientOutput.Reader.ReadAtLeastAsync(sent.Length * 2).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(sent, Encoding.UTF8.GetString(read.Buffer));
        Assert.Equal(sent.Length, session.BytesOut);
    }

    [Fact]
    public async Task A_peer_that_is_gone_ends_the_writer_without_the_failure_escaping()
    {
        using var member = Member("udp");
        member.Deliver(Encoding.UTF8.GetBytes("x: lost\n"));
        var peer = new RecordingPeer(Session(TransportKind.Udp)) { Failure = new IOException("peer gone") };

        var writer = MemberWriter.RunAsync(member, peer);

        await writer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(writer.IsCompletedSuccessfully);
        Assert.False(await member.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task With_a_gather_a_member_owed_few_lines_waits_for_the_tick_and_gets_them_in_one_write()
    {
        using var member = Member("tcp");
        using var gather = new WriteGather(TimeSpan.FromMilliseconds(1), _clock);
        member.Deliver(Encoding.UTF8.GetBytes("a: one\n"));
        member.Deliver(Encoding.UTF8.GetBytes("b: two\nb: three\n"), count: 2);
        var peer = new RecordingPeer(Session(TransportKind.Tcp));

        var writer = MemberWriter.RunAsync(member, peer, gather);

        // Nothing goes before the tick (the fake clock has not moved).
        Assert.Empty(peer.Sends);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["a: one", "b: two", "b: three"], [await peer.ReadAsync(), await peer.ReadAsync(), await peer.ReadAsync()]);

        // Two queued runs, one write: the first is held for the second (more), the last flushes.
        Assert.Equal([(1, true), (2, false)], peer.Sends);
        member.Complete();
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await writer.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task With_a_gather_a_member_owed_many_lines_is_written_at_once()
    {
        using var member = Member("tcp");
        using var gather = new WriteGather(TimeSpan.FromMilliseconds(1), _clock);
        var many = string.Concat(Enumerable.Range(0, MemberWriter.GatherBelow).Select(i => $"a: {i}\n"));
        member.Deliver(Encoding.UTF8.GetBytes(many), count: MemberWriter.GatherBelow);
        var peer = new RecordingPeer(Session(TransportKind.Tcp));

        _ = MemberWriter.RunAsync(member, peer, gather);

        // The clock never moves: the lines go without waiting for a tick.
        Assert.Equal("a: 0", await peer.ReadAsync());
        member.Complete();
    }

    private RoomMember Member(string transport) =>
        new(1, transport, new ShoutRoomOptions(), TimeSpan.FromSeconds(30), _clock, new RoomMetrics(_meters), _ => { });

    private Session Session(TransportKind transport) => new(new ShoutMetrics(_meters), "w1", transport, "test", 0, null);
}
