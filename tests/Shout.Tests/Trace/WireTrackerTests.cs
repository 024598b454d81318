using Shout.Trace;

namespace Shout.Tests.Trace;

/// <summary>The tutorial's 2.5/2.6 drawings from packets built with PacketDotNet.</summary>
public sealed class WireTrackerTests
{
    private readonly Segments _s = new();
    private readonly WireTracker _tracker = new([8080]);

    private List<TraceRecord> Feed(params TracedPacket[] packets) => [.. packets.SelectMany(_tracker.Add)];

    private static string Line(TraceRecord r) => r switch
    {
        TracePacketLine p => $"{p.From} {p.Flags} seq={p.Seq} ack={p.Ack ?? "-"} len={p.Length} client={p.ClientState ?? "-"} server={p.ServerState ?? "-"}",
        TraceDatagramLine d => $"{d.From} UDP len={d.Length} {d.Preview}",
        TraceSummary s => $"end first={s.ClosedFirst} reset={s.ResetBy ?? "-"} timewait={s.TimeWait ?? "-"} in={s.BytesClientToServer} out={s.BytesServerToClient} retx={s.Retransmissions} packets={s.Packets}",
        _ => "?",
    };

    private TracedPacket[] Handshake() =>
    [
        _s.Tcp(true, "SYN", 0),
        _s.Tcp(false, "SYN", 0, ack: 1),
        _s.Tcp(true, "", 1, ack: 1),
    ];

    [Fact]
    public void The_handshake_data_and_a_client_first_close_are_drawn_as_the_tutorial_draws_them()
    {
        var records = Feed([.. Handshake(),
            _s.Tcp(true, "PSH", 1, 1, "hello"),
            _s.Tcp(false, "", 1, 6),
            _s.Tcp(false, "PSH", 1, 6, "HELLO"),
            _s.Tcp(true, "", 6, 6),
            _s.Tcp(true, "FIN", 6, 6),
            _s.Tcp(false, "", 6, 7),
            _s.Tcp(false, "FIN", 6, 7),
            _s.Tcp(true, "", 7, 7)]);

        Assert.Equal(
        [
            "client SYN seq=x ack=- len=0 client=SYN_SENT server=-",
            "server SYN-ACK seq=y ack=x+1 len=0 client=ESTABLISHED server=SYN_RCVD",
            "client ACK seq=x+1 ack=y+1 len=0 client=- server=ESTABLISHED",
            "client PSH-ACK seq=x+1 ack=y+1 len=5 client=- server=-",
            "server ACK seq=y+1 ack=x+6 len=0 client=- server=-",
            "server PSH-ACK seq=y+1 ack=x+6 len=5 client=- server=-",
            "client ACK seq=x+6 ack=y+6 len=0 client=- server=-",
            "client FIN-ACK seq=x+6 ack=y+6 len=0 client=FIN_WAIT_1 server=CLOSE_WAIT",
            "server ACK seq=y+6 ack=x+7 len=0 client=FIN_WAIT_2 server=-",
            "server FIN-ACK seq=y+6 ack=x+7 len=0 client=TIME_WAIT server=LAST_ACK",
            "client ACK seq=x+7 ack=y+7 len=0 client=- server=CLOSED",
            "end first=client reset=- timewait=client in=5 out=5 retx=0 packets=11",
        ], records.Select(Line));
        var data = Assert.IsType<TracePacketLine>(records[3]);
        Assert.Equal("hello", data.Preview);
        Assert.Equal(1, data.SeqOffset);
        var summary = Assert.IsType<TraceSummary>(records[^1]);
        Assert.Equal(1, summary.HandshakeRttMs);
        Assert.Equal("127.0.0.1:40000", summary.Client);
        Assert.Equal("127.0.0.1:8080", summary.Server);
        Assert.Equal(0, _tracker.OpenConnections);
    }

    [Fact]
    public void A_delay_on_the_path_shows_as_the_gap_before_the_packet_that_ends_it_and_a_full_receiver_as_a_zero_window()
    {
        var records = Feed([.. Handshake(),
            _s.Tcp(true, "PSH", 1, 1, "hello")]);
        _s.Wait(99);
        records.AddRange(Feed(
            _s.Tcp(false, "PSH", 1, 6, "HELLO"),
            _s.Ack(true, 6, 6, window: 0),
            _s.Ack(true, 6, 6, window: 512)));

        var lines = records.OfType<TracePacketLine>().ToList();
        Assert.Equal([0, 1, 1, 1, 100, 1, 1], lines.Select(l => Math.Round(l.GapMs)));
        Assert.Equal([false, false, false, false, false, true, false], lines.Select(l => l.ZeroWindow));
        // A SYN's window is never a zero window (it has not opened yet), nor is a RST's.
        Assert.False(Feed(_s.Tcp(true, "RST", 6, 6, [], window: 0)).OfType<TracePacketLine>().Single().ZeroWindow);
    }

    [Fact]
    public void A_server_first_close_leaves_the_server_in_TIME_WAIT()
    {
        var records = Feed([.. Handshake(),
            _s.Tcp(false, "FIN", 1, 1),
            _s.Tcp(true, "", 1, 2),
            _s.Tcp(true, "FIN", 1, 2),
            _s.Tcp(false, "", 2, 2)]);

        Assert.Equal(
        [
            "server FIN-ACK seq=y+1 ack=x+1 len=0 client=CLOSE_WAIT server=FIN_WAIT_1",
            "client ACK seq=x+1 ack=y+2 len=0 client=- server=FIN_WAIT_2",
            "client FIN-ACK seq=x+1 ack=y+2 len=0 client=LAST_ACK server=TIME_WAIT",
            "server ACK seq=y+2 ack=x+2 len=0 client=CLOSED server=-",
            "end first=server reset=- timewait=server in=0 out=0 retx=0 packets=7",
        ], records.Skip(3).Select(Line));
    }

    [Fact]
    public void A_half_closed_client_still_receives_data_in_FIN_WAIT_2()
    {
        var records = Feed([.. Handshake(),
            _s.Tcp(true, "FIN", 1, 1),
            _s.Tcp(false, "", 1, 2),
            _s.Tcp(false, "PSH", 1, 2, "LATE REPLY"),
            _s.Tcp(true, "", 2, 11),
            _s.Tcp(false, "FIN", 11, 2),
            _s.Tcp(true, "", 2, 12)]);

        Assert.Equal(
        [
            "client FIN-ACK seq=x+1 ack=y+1 len=0 client=FIN_WAIT_1 server=CLOSE_WAIT",
            "server ACK seq=y+1 ack=x+2 len=0 client=FIN_WAIT_2 server=-",
            "server PSH-ACK seq=y+1 ack=x+2 len=10 client=- server=-",
            "client ACK seq=x+2 ack=y+11 len=0 client=- server=-",
            "server FIN-ACK seq=y+11 ack=x+2 len=0 client=TIME_WAIT server=LAST_ACK",
            "client ACK seq=x+2 ack=y+12 len=0 client=- server=CLOSED",
            "end first=client reset=- timewait=client in=0 out=10 retx=0 packets=9",
        ], records.Skip(3).Select(Line));
    }

    [Fact]
    public void A_reset_closes_both_sides_at_once_and_ends_the_connection()
    {
        var records = Feed([.. Handshake(), _s.Tcp(true, "RST", 1, 1)]);

        Assert.Equal(
        [
            "client RST-ACK seq=x+1 ack=y+1 len=0 client=CLOSED server=CLOSED",
            "end first=client reset=client timewait=- in=0 out=0 retx=0 packets=4",
        ], records.Skip(3).Select(Line));

        // A late packet of the reset connection is drawn on it, not as a new connection.
        var late = Assert.Single(Feed(_s.Tcp(false, "", 1, 1)));
        Assert.Equal(1, late.Connection);
        Assert.Equal(0, _tracker.OpenConnections);
    }

    [Fact]
    public void Both_closing_at_once_pass_through_CLOSING_to_TIME_WAIT()
    {
        var records = Feed([.. Handshake(),
            _s.Tcp(true, "FIN", 1, 1),
            _s.Tcp(false, "FIN", 1, 1),
            _s.Tcp(true, "", 2, 2),
            _s.Tcp(false, "", 2, 2)]);

        Assert.Equal(
        [
            "client FIN-ACK seq=x+1 ack=y+1 len=0 client=FIN_WAIT_1 server=CLOSE_WAIT",
            "server FIN-ACK seq=y+1 ack=x+1 len=0 client=CLOSING server=LAST_ACK",
            "client ACK seq=x+2 ack=y+2 len=0 client=- server=CLOSED",
        ], records.Skip(3).Take(3).Select(Line));
        Assert.Contains(records, r => r is TraceSummary);
    }

    [Fact]
    public void Repeated_data_is_marked_a_retransmission_and_counted_once()
    {
        var records = Feed([.. Handshake(),
            _s.Tcp(true, "PSH", 1, 1, "abc"),
            _s.Tcp(true, "PSH", 1, 1, "abc"),
            _s.Tcp(false, "", 1, 4),
            _s.Tcp(true, "RST", 4, 1)]);

        Assert.False(((TracePacketLine)records[3]).Retransmission);
        Assert.True(((TracePacketLine)records[4]).Retransmission);
        var summary = Assert.IsType<TraceSummary>(records[^1]);
        Assert.Equal(1, summary.Retransmissions);
        Assert.Equal(3, summary.BytesClientToServer);
    }

    [Fact]
    public void A_connection_seen_midway_counts_from_its_first_packet()
    {
        var line = Assert.IsType<TracePacketLine>(Assert.Single(Feed(_s.Tcp(true, "PSH", 500, 700, "mid"))));
        Assert.Equal("x", line.Seq);
        Assert.Equal("y", line.Ack);
        Assert.Null(line.ClientState);
        Assert.Equal(1, _tracker.OpenConnections);
    }

    [Fact]
    public void Udp_datagrams_are_one_line_each_and_packets_of_other_ports_nothing()
    {
        var records = Feed(_s.Udp(true, "hello"), _s.Udp(false, "HELLO"), _s.Other(5000, 6000));
        Assert.Equal(["client UDP len=5 hello", "server UDP len=5 HELLO"], records.Select(Line));
        Assert.Equal(records[0].Connection, records[1].Connection);
    }

    [Fact]
    public void A_new_SYN_on_the_same_ports_starts_a_new_connection()
    {
        var first = Feed([.. Handshake(), _s.Tcp(true, "RST", 1, 1)]);
        var second = Feed(_s.Tcp(true, "SYN", 0));
        Assert.Equal(1, first[0].Connection);
        Assert.Equal(2, second[0].Connection);
    }

    [Fact]
    public void Tls_records_are_named_and_their_bytes_never_shown()
    {
        byte[] hello = [22, 3, 1, 0, 5, 1, 0, 0, 1, 0x41];
        byte[] ciphertext = [0x41, 0x42, 0x43, 0x44, 0x45, 0x46];
        var records = Feed([.. Handshake(), _s.Tcp(true, "PSH", 1, 1, hello), _s.Tcp(true, "PSH", 11, 1, ciphertext)]);
        Assert.Equal("TLS handshake", ((TracePacketLine)records[3]).Preview);
        Assert.Equal("TLS (continued)", ((TracePacketLine)records[4]).Preview);
        Assert.Equal(6, ((TracePacketLine)records[4]).Length);
    }
    /// <summary>
    /// Seen in a loaded run: the kernel dropped the client's FIN (its TCP memory under pressure), the
    /// capture never had it, and the FIN came again 200 ms later. The client's next ACK already counted
    /// the FIN's sequence number; the FIN that follows is the first one seen, so it closes the side.
    /// </summary>
    [Fact]
    public void A_fin_first_seen_as_a_resend_still_closes_its_side()
    {
        var records = Feed([.. Handshake(),
            _s.Tcp(true, "PSH", 1, 1, "hello"),
            _s.Tcp(false, "PSH", 1, 6, "HELLO"),
            _s.Tcp(true, "", 7, 6),
            _s.Tcp(false, "FIN", 6, 6),
            _s.Tcp(true, "FIN", 6, 6),
            _s.Tcp(true, "", 7, 7),
            _s.Tcp(false, "", 7, 7)]);

        // As captured, the server's FIN came first, so it is drawn closing first; the client's resent
        // FIN then moves both sides on, and the last ACKs end the connection with its summary.
        Assert.Equal(
        [
            "server FIN-ACK seq=y+6 ack=x+6 len=0 client=CLOSE_WAIT server=FIN_WAIT_1",
            "client FIN-ACK seq=x+6 ack=y+6 len=0 client=LAST_ACK server=CLOSING",
            "client ACK seq=x+7 ack=y+7 len=0 client=- server=TIME_WAIT",
            "server ACK seq=y+7 ack=x+7 len=0 client=CLOSED server=-",
        ], records.Skip(6).Take(4).Select(Line));
        var resent = Assert.IsType<TracePacketLine>(records[7]);
        Assert.True(resent.Retransmission);
        var summary = Assert.IsType<TraceSummary>(records[^1]);
        Assert.Equal("server", summary.ClosedFirst);
        Assert.Equal(0, _tracker.OpenConnections);
    }
}
