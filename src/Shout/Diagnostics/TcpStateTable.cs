using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace Shout.Diagnostics;

/// <summary>One TCP socket as the kernel lists it.</summary>
/// <param name="Local">This socket's address.</param>
/// <param name="Remote">The peer's address (<c>0.0.0.0:0</c> or <c>[::]:0</c> for a listener).</param>
/// <param name="State">The TCP state.</param>
/// <param name="SendQueue">Bytes sent and not yet acknowledged by the peer (<c>ss</c>'s Send-Q); 0 for a listener.</param>
/// <param name="ReceiveQueue">Bytes received and not yet read by the application (<c>ss</c>'s Recv-Q); for a listener, connections waiting to be accepted.</param>
internal sealed record TcpSocketEntry(IPEndPoint Local, IPEndPoint Remote, TcpState State, long SendQueue = 0, long ReceiveQueue = 0)
{
    /// <summary>True when the local port is one of <paramref name="serverPorts"/>: the server's end, not a client's.</summary>
    public bool IsServerSide(IReadOnlyCollection<int> serverPorts)
    {
        ArgumentNullException.ThrowIfNull(serverPorts);
        return serverPorts.Contains(Local.Port);
    }
}

/// <summary>
/// The kernel's table of TCP sockets, read from <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>
/// (Linux only): what <c>ss -tan</c> shows. <see cref="Parse"/> is pure, so it is tested on fixed
/// text; <see cref="Read"/> reads the live files. Thread-safe (no state).
/// </summary>
internal static class TcpStateTable
{
    /// <summary>Where the kernel publishes the tables of the calling process's network namespace.</summary>
    public const string DefaultProcNet = "/proc/net";

    /// <summary>
    /// Parses the text of <c>/proc/net/tcp</c> or <c>/proc/net/tcp6</c>: a header line, then one socket per
    /// line. Addresses are hex in the machine's byte order (little-endian on x86 and ARM), ports hex
    /// in network order. Lines that do not have that shape are skipped.
    /// </summary>
    public static IReadOnlyList<TcpSocketEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<TcpSocketEntry>();
        foreach (var line in text.Split('\n'))
        {
            if (TryParseLine(line, out var entry))
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    /// <summary>
    /// Reads the live table (IPv4 and IPv6), keeping the sockets whose local or remote port is one of
    /// <paramref name="ports"/>, so both ends of a loopback connection show; null or empty keeps all.
    /// Returns an empty list where the files do not exist (not Linux).
    /// </summary>
    /// <param name="ports">Ports to match, or null for every socket.</param>
    /// <param name="procNet">The folder holding <c>tcp</c> and <c>tcp6</c> (tests point it at fixtures).</param>
    public static IReadOnlyList<TcpSocketEntry> Read(IReadOnlyCollection<int>? ports = null, string procNet = DefaultProcNet)
    {
        var entries = new List<TcpSocketEntry>();
        foreach (var file in new[] { Path.Combine(procNet, "tcp"), Path.Combine(procNet, "tcp6") })
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                continue;
            }

            entries.AddRange(Parse(text).Where(e => ports is null || ports.Count == 0
                || ports.Contains(e.Local.Port) || ports.Contains(e.Remote.Port)));
        }

        return entries;
    }

    /// <summary>Counts per state, every state of <paramref name="entries"/> present.</summary>
    public static IReadOnlyDictionary<TcpState, int> CountByState(IEnumerable<TcpSocketEntry> entries) =>
        entries.GroupBy(e => e.State).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The state's name as the tutorial writes it: <c>ESTABLISHED</c>, <c>FIN_WAIT_2</c>, <c>TIME_WAIT</c>, …</summary>
    public static string StateName(TcpState state) => state switch
    {
        TcpState.Established => "ESTABLISHED",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynReceived => "SYN_RECV",
        TcpState.FinWait1 => "FIN_WAIT_1",
        TcpState.FinWait2 => "FIN_WAIT_2",
        TcpState.TimeWait => "TIME_WAIT",
        TcpState.Close => "CLOSE",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.LastAck => "LAST_ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Closing => "CLOSING",
        TcpState.NewSynReceived => "NEW_SYN_RECV",
        _ => "UNKNOWN",
    };

    private static bool TryParseLine(string line, out TcpSocketEntry entry)
    {
        entry = null!;
        // "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode …"
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 4 || !fields[0].EndsWith(':'))
        {
            return false;
        }

        if (!TryParseEndPoint(fields[1], out var local) || !TryParseEndPoint(fields[2], out var remote)
            || !byte.TryParse(fields[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var state))
        {
            return false;
        }

        // "tx_queue:rx_queue", hex: what the queues hold, as ss shows them (0 when the field is missing).
        var (send, receive) = (0L, 0L);
        if (fields.Length > 4 && fields[4].Split(':') is [var tx, var rx])
        {
            _ = long.TryParse(tx, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out send);
            _ = long.TryParse(rx, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out receive);
        }

        entry = new TcpSocketEntry(local, remote, (TcpState)state, send, receive);
        return true;
    }

    /// <summary>Parses <c>0100007F:1F90</c> (IPv4) or 32 hex digits and a port (IPv6).</summary>
    internal static bool TryParseEndPoint(string text, out IPEndPoint endPoint)
    {
        endPoint = null!;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon is not (8 or 32) || text.Length - colon - 1 != 4
            || !ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port))
        {
            return false;
        }

        // The kernel prints each 32-bit word of the address as a native-order integer.
        Span<byte> bytes = stackalloc byte[colon / 2];
        for (var word = 0; word < bytes.Length / 4; word++)
        {
            if (!uint.TryParse(text.AsSpan(word * 8, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            if (BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes[(word * 4)..], value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(bytes[(word * 4)..], value);
            }
        }

        var address = new IPAddress(bytes);
        endPoint = new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, port);
        return true;
    }
}
