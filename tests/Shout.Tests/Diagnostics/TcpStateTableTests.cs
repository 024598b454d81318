using System.Net;
using System.Net.Sockets;
using Shout.Diagnostics;

namespace Shout.Tests.Diagnostics;

public sealed class TcpStateTableTests
{
    // Lines as Linux prints them (x86-64, little-endian), trailing spaces included.
    private const string Tcp4 =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n"
        + "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 625138 1 000000009374e90c 100 0 0 10 0                    \n"
        + "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 625139 1 0000000000000000 20 4 30 10 -1                   \n"
        + "   2: 0100007F:D431 0100007F:1F90 06 00000000:00000000 03:0000169B 00000000     0        0 0 3 000000007b579b8c\n";

    private const string Tcp6 =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        + "   0: 00000000000000000000000001000000:1F91 00000000000000000000000001000000:A000 08 00000000:00000000 00:00000000 00000000     0        0 1 1 0\n"
        + "   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:8F39 05 00000000:00000000 03:0000169B 00000000     0        0 0 3 0\n";

    [Fact]
    public void Parses_IPv4_rows_with_the_kernels_byte_order()
    {
        var entries = TcpStateTable.Parse(Tcp4);
        Assert.Equal(3, entries.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 8080), entries[0].Local);
        Assert.Equal(TcpState.Listen, entries[0].State);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), entries[1].Local);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0xD431), entries[1].Remote);
        Assert.Equal(TcpState.Established, entries[1].State);
        Assert.Equal(TcpState.TimeWait, entries[2].State);
    }

    [Fact]
    public void Parses_IPv6_rows_and_shows_mapped_IPv4_as_IPv4()
    {
        var entries = TcpStateTable.Parse(Tcp6);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 8081), entries[0].Local);
        Assert.Equal(AddressFamily.InterNetworkV6, entries[0].Local.AddressFamily);
        Assert.Equal(TcpState.CloseWait, entries[0].State);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8080), entries[1].Local);
        Assert.Equal(TcpState.FinWait2, entries[1].State);
    }

    [Fact]
    public void Reads_only_the_sockets_of_the_given_ports_and_tells_server_from_client_ends()
    {
        var dir = Directory.CreateTempSubdirectory("shout-proc-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "tcp"), Tcp4);
            File.WriteAllText(Path.Combine(dir.FullName, "tcp6"), Tcp6);
            int[] ports = [8080];
            var entries = TcpStateTable.Read(ports, dir.FullName);
            Assert.Equal(4, entries.Count);
            var counts = TcpStateTable.CountByState(entries);
            Assert.Equal(1, counts[TcpState.TimeWait]);
            Assert.False(counts.ContainsKey(TcpState.CloseWait));
            Assert.Single(entries, e => e.State == TcpState.TimeWait && !e.IsServerSide(ports));
            Assert.Equal(3, entries.Count(e => e.IsServerSide(ports)));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Missing_tables_say_the_platform_is_not_supported() =>
        Assert.Throws<PlatformNotSupportedException>(() => TcpStateTable.Read([1], "/nonexistent-proc-net"));

    [Theory]
    [InlineData("   0: 0100007F:1F90 0100007F:D431\n")]                 // no state
    [InlineData("   0: 0100007F:1F90 0100007F:D431 0D 0\n")]            // state out of range
    [InlineData("   0: 0100007F:1F9 0100007F:D431 01 0\n")]             // short port
    [InlineData("   0: 0100007:1F90 0100007F:D431 01 0\n")]             // short address
    [InlineData("   0: 0100007G:1F90 0100007F:D431 01 0\n")]            // not hex
    [InlineData("garbage\n")]
    public void Malformed_rows_are_refused_with_the_line_number(string text)
    {
        var error = Assert.Throws<FormatException>(() => TcpStateTable.Parse(text));
        Assert.StartsWith("line 1:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TcpState.Established, "ESTABLISHED")]
    [InlineData(TcpState.TimeWait, "TIME_WAIT")]
    [InlineData(TcpState.CloseWait, "CLOSE_WAIT")]
    [InlineData(TcpState.FinWait2, "FIN_WAIT2")]
    [InlineData(TcpState.Listen, "LISTEN")]
    public void States_have_their_netstat_names(TcpState state, string name) => Assert.Equal(name, TcpStateTable.StateName(state));
}
