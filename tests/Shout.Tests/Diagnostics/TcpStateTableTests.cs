using System.Net;
using Shout.Diagnostics;

namespace Shout.Tests.Diagnostics;

public sealed class TcpStateTableTests
{
    // In the exact format of a Linux x86-64 machine (little-endian): a listener on 127.0.0.1:8080, an
    // established pair, a TIME_WAIT on the client side, and one line the parser must skip.
    private const string Tcp4 = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 26344 1 000000008f4a9fbe 100 0 0 10 0
           1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 27888 1 000000004a6286d2 20 4 28 16 -1
           2: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 27887 1 000000004a6286d3 20 4 28 16 -1
           3: 0100007F:D432 0100007F:1F90 06 00000000:00000000 03:00000E5A 00000000     0        0 0 3 00000000a9062290
           4: garbage
        """;

    private const string Tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1077 1 00000000441ee781 100 0 0 10 0
           1: 0000000000000000FFFF00000100007F:DB64 0000000000000000FFFF00000100007F:B075 08 00000000:00000000 03:00000E5A 00000000     0        0 555 3 00000000a9062290
           2: 000080FE00000000FF5E02029A0E11FE:C350 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1078 1 00000000441ee781 100 0 0 10 0
        """;

    [Fact]
    public void Parses_ipv4_lines_and_skips_the_header_and_garbage()
    {
        var entries = TcpStateTable.Parse(Tcp4);
        Assert.Equal(4, entries.Count);
        Assert.Equal(new TcpSocketEntry(IPEndPoint.Parse("127.0.0.1:8080"), IPEndPoint.Parse("0.0.0.0:0"), TcpState.Listen), entries[0]);
        Assert.Equal(TcpState.Established, entries[1].State);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:54321"), entries[1].Remote);
        Assert.Equal(new TcpSocketEntry(IPEndPoint.Parse("127.0.0.1:54322"), IPEndPoint.Parse("127.0.0.1:8080"), TcpState.TimeWait), entries[3]);
    }

    [Fact]
    public void Parses_ipv6_words_in_machine_order_and_unmaps_ipv4()
    {
        Assert.True(BitConverter.IsLittleEndian, "the sample text was captured on a little-endian machine");
        var entries = TcpStateTable.Parse(Tcp6);
        Assert.Equal(3, entries.Count);
        Assert.Equal(IPEndPoint.Parse("[::1]:8080"), entries[0].Local);
        Assert.Equal(IPEndPoint.Parse("[::]:0"), entries[0].Remote);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:56164"), entries[1].Local);
        Assert.Equal(TcpState.CloseWait, entries[1].State);
        Assert.Equal(IPEndPoint.Parse("[fe80::202:5eff:fe11:e9a]:50000"), entries[2].Local);
    }

    [Theory]
    [InlineData("0100007F:1F9")]
    [InlineData("0100007:1F90")]
    [InlineData("0100007G:1F90")]
    [InlineData("0100007F1F90")]
    [InlineData("")]
    public void Rejects_malformed_addresses(string text) =>
        Assert.False(TcpStateTable.TryParseEndPoint(text, out _));

    [Fact]
    public void Reads_each_sockets_send_and_receive_queues_as_ss_shows_them()
    {
        var entries = TcpStateTable.Parse("""
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 0100007F:D431 01 0001F400:00000010 00:00000000 00000000  1000        0 27888 1 000000004a6286d2 20 4 28 16 -1
               1: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000        0 26344 1 000000008f4a9fbe 100 0 0 10 0
            """);
        Assert.Equal(128_000, entries[0].SendQueue);
        Assert.Equal(16, entries[0].ReceiveQueue);
        Assert.Equal(0, entries[1].SendQueue);
        Assert.Equal(3, entries[1].ReceiveQueue);
    }

    [Fact]
    public void Counts_by_state()
    {
        var counts = TcpStateTable.CountByState(TcpStateTable.Parse(Tcp4));
        Assert.Equal(1, counts[TcpState.Listen]);
        Assert.Equal(2, counts[TcpState.Established]);
        Assert.Equal(1, counts[TcpState.TimeWait]);
    }

    [Theory]
    [InlineData((int)TcpState.TimeWait, "TIME_WAIT")]
    [InlineData((int)TcpState.FinWait2, "FIN_WAIT_2")]
    [InlineData((int)TcpState.CloseWait, "CLOSE_WAIT")]
    [InlineData(0x42, "UNKNOWN")]
    public void Names_states_as_netstat_does(int state, string name) => Assert.Equal(name, TcpStateTable.StateName((TcpState)state));

    [Fact]
    public void Reads_fixture_files_filtered_by_port_and_tells_server_from_client()
    {
        var dir = Path.Combine(Path.GetTempPath(), "shout-proc-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tcp"), Tcp4);
        File.WriteAllText(Path.Combine(dir, "tcp6"), Tcp6);
        var entries = TcpStateTable.Read([8080], dir);
        Assert.Equal(5, entries.Count);
        Assert.Equal(3, entries.Count(e => e.IsServerSide([8080])));
        Assert.Equal(7, TcpStateTable.Read(null, dir).Count);
        Assert.Empty(TcpStateTable.Read([8080], Path.Combine(dir, "missing")));
    }

    [Fact]
    public void Reads_the_live_table_with_a_listener_we_own()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var entries = TcpStateTable.Read([port]);
        Assert.Contains(entries, e => e.State == TcpState.Listen && e.Local.Port == port);
    }
}
