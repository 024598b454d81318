using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace Shout.Diagnostics;

/// <summary>The TCP states as the Linux kernel numbers them in <c>/proc/net/tcp</c>.</summary>
public enum TcpState
{
    /// <summary>Connected; data flows both ways.</summary>
    Established = 1,

    /// <summary>Active open: SYN sent, waiting for SYN+ACK.</summary>
    SynSent = 2,

    /// <summary>Passive open: SYN received, SYN+ACK sent.</summary>
    SynReceived = 3,

    /// <summary>Closed first: FIN sent, waiting for its ACK.</summary>
    FinWait1 = 4,

    /// <summary>Closed first: FIN acknowledged, waiting for the peer's FIN.</summary>
    FinWait2 = 5,

    /// <summary>Closed first and done: waiting 2MSL so late segments die.</summary>
    TimeWait = 6,

    /// <summary>Closed.</summary>
    Close = 7,

    /// <summary>The peer closed first: its FIN received, this side not closed yet.</summary>
    CloseWait = 8,

    /// <summary>The peer closed first, then this side: waiting for the last ACK.</summary>
    LastAck = 9,

    /// <summary>A listening socket.</summary>
    Listen = 10,

    /// <summary>Both sides closed at the same time.</summary>
    Closing = 11,

    /// <summary>A connection request in the SYN queue (the kernel's mini socket).</summary>
    NewSynReceived = 12,
}

/// <summary>One row of the kernel's TCP socket table.</summary>
/// <param name="Local">This host's end.</param>
/// <param name="Remote">The peer's end (0.0.0.0:0 for a listener).</param>
/// <param name="State">The TCP state.</param>
public sealed record TcpSocketEntry(IPEndPoint Local, IPEndPoint Remote, TcpState State)
{
    /// <summary>True when the local port is one of <paramref name="serverPorts"/>: the server's end, not a client's.</summary>
    public bool IsServerSide(IReadOnlyCollection<int> serverPorts)
    {
        ArgumentNullException.ThrowIfNull(serverPorts);
        return serverPorts.Contains(Local.Port);
    }
}

/// <summary>
/// Reads the kernel's TCP socket table (<c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>, what
/// <c>ss</c> and <c>netstat</c> show), for the sockets of given ports. Linux only; pure parsing
/// in <see cref="Parse"/>. Thread-safe.
/// </summary>
public static class TcpStateTable
{
    /// <summary>Where the kernel publishes the tables of the calling process's network namespace.</summary>
    public const string DefaultProcNet = "/proc/net";

    /// <summary>
    /// The sockets whose local or remote port is one of <paramref name="ports"/>: the server's own
    /// (listeners and accepted connections) and, on the same host, its clients' ends.
    /// </summary>
    /// <param name="ports">Ports to match.</param>
    /// <param name="procNet">The folder holding <c>tcp</c> and <c>tcp6</c> (for tests).</param>
    /// <exception cref="PlatformNotSupportedException">The tables do not exist (not Linux).</exception>
    public static IReadOnlyList<TcpSocketEntry> Read(IReadOnlyCollection<int> ports, string procNet = DefaultProcNet)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var v4 = Path.Combine(procNet, "tcp");
        if (!File.Exists(v4))
        {
            throw new PlatformNotSupportedException($"{v4} does not exist: the TCP state table needs Linux");
        }

        var v6 = Path.Combine(procNet, "tcp6");
        var entries = Parse(File.ReadAllText(v4));
        if (File.Exists(v6))
        {
            entries = [.. entries, .. Parse(File.ReadAllText(v6))];
        }

        return [.. entries.Where(e => ports.Contains(e.Local.Port) || ports.Contains(e.Remote.Port))];
    }

    /// <summary>Counts entries per state.</summary>
    public static IReadOnlyDictionary<TcpState, int> CountByState(IEnumerable<TcpSocketEntry> entries) =>
        entries.GroupBy(e => e.State).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The state's usual name, as <c>netstat</c> prints it: <c>ESTABLISHED</c>, <c>TIME_WAIT</c>, …</summary>
    public static string StateName(TcpState state) => state switch
    {
        TcpState.Established => "ESTABLISHED",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynReceived => "SYN_RECV",
        TcpState.FinWait1 => "FIN_WAIT1",
        TcpState.FinWait2 => "FIN_WAIT2",
        TcpState.TimeWait => "TIME_WAIT",
        TcpState.Close => "CLOSE",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.LastAck => "LAST_ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Closing => "CLOSING",
        TcpState.NewSynReceived => "NEW_SYN_RECV",
        _ => "UNKNOWN",
    };

    /// <summary>
    /// Parses the text of <c>/proc/net/tcp</c> or <c>/proc/net/tcp6</c>: a header line, then one
    /// line per socket (<c>sl local rem st …</c>, addresses as hex in the kernel's byte order).
    /// </summary>
    /// <exception cref="FormatException">A line is not in that format; the message names the line.</exception>
    public static IReadOnlyList<TcpSocketEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<TcpSocketEntry>();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || (lineNumber == 1 && fields[0] == "sl"))
            {
                continue;
            }

            if (fields.Length < 4 || !fields[0].EndsWith(':'))
            {
                throw new FormatException($"line {lineNumber}: expected 'sl: local remote state …', got '{line.Trim()}'");
            }

            if (!byte.TryParse(fields[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var state)
                || state is < (byte)TcpState.Established or > (byte)TcpState.NewSynReceived)
            {
                throw new FormatException($"line {lineNumber}: '{fields[3]}' is not a TCP state (hex 01 to 0C)");
            }

            entries.Add(new TcpSocketEntry(ParseEndPoint(fields[1], lineNumber), ParseEndPoint(fields[2], lineNumber), (TcpState)state));
        }

        return entries;
    }

    // "0100007F:1F90": the address as the kernel stores it (32-bit words in host order), the port as a number.
    private static IPEndPoint ParseEndPoint(string field, int lineNumber)
    {
        var colon = field.IndexOf(':', StringComparison.Ordinal);
        var hex = colon < 0 ? "" : field[..colon];
        if ((hex.Length != 8 && hex.Length != 32)
            || !ushort.TryParse(field.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port)
            || field.Length - colon - 1 != 4)
        {
            throw new FormatException($"line {lineNumber}: '{field}' is not a hex ADDRESS:PORT");
        }

        var bytes = new byte[hex.Length / 2];
        for (var word = 0; word < bytes.Length / 4; word++)
        {
            if (!uint.TryParse(hex.AsSpan(word * 8, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                throw new FormatException($"line {lineNumber}: '{field}' is not a hex ADDRESS:PORT");
            }

            // The kernel prints each 32-bit word of the network-order address as a host-order integer.
            if (BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(word * 4), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(word * 4), value);
            }
        }

        var address = new IPAddress(bytes);
        return new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, port);
    }
}
