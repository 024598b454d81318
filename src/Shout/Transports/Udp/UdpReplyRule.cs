using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Shout.Text;

namespace Shout.Transports.Udp;

/// <summary>
/// How a datagram becomes its reply. The reply is the uppercase of the datagram; uppercasing can
/// make it longer (ȿ, 2 bytes, becomes Ȿ, 3 bytes), so a datagram near the maximum size can have a
/// reply that no datagram can carry. The rule: such a reply is truncated at the last whole
/// character that fits and the truncation is counted. The client still gets an answer (shorter than
/// expected, which it can detect), a malformed character is never sent, and nothing is fragmented
/// into a second datagram, which a client waiting for one reply would take for the next answer.
/// Pure; thread-safe.
/// </summary>
internal static class UdpReplyRule
{
    /// <summary>Largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header).</summary>
    public const int MaxIPv4Payload = 65_507;

    /// <summary>Largest UDP payload over IPv6 without jumbograms: 65,535 − 8 (UDP header).</summary>
    public const int MaxIPv6Payload = 65_527;

    /// <summary>Receive buffer: larger than any datagram, so Linux never truncates one silently.</summary>
    public const int ReceiveBufferSize = 64 * 1024;

    /// <summary>Reply buffer: the longest reply the longest datagram can have, before the rule applies.</summary>
    public static int ReplyBufferSize { get; } = ShoutCase.MaxOutputLength(ReceiveBufferSize);

    /// <summary>
    /// The largest reply to <paramref name="peer"/>: IPv4 peers (including IPv4-mapped peers of a
    /// dual-stack socket) get the IPv4 limit, IPv6 peers the IPv6 one.
    /// </summary>
    public static int MaxPayload(SocketAddress peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return peer.Family == AddressFamily.InterNetworkV6 && !IsIPv4Mapped(peer) ? MaxIPv6Payload : MaxIPv4Payload;
    }

    /// <summary>
    /// Writes the reply to <paramref name="datagram"/> into <paramref name="reply"/>, at most
    /// <paramref name="maxPayload"/> bytes, and says whether the rule had to cut it.
    /// </summary>
    public static int Compose(ReadOnlySpan<byte> datagram, Span<byte> reply, int maxPayload, out bool truncated)
    {
        // The uppercaser stops before a character that does not fit, so the cut is always at a boundary.
        var status = ShoutCase.ToUpper(datagram, reply[..Math.Min(maxPayload, reply.Length)], isFinalBlock: true, out _, out var written);
        truncated = status == OperationStatus.DestinationTooSmall;
        return written;
    }

    // sockaddr_in6: family (2), port (2), flow info (4), address (16). Mapped = ::ffff:a.b.c.d.
    private static bool IsIPv4Mapped(SocketAddress peer)
    {
        var bytes = peer.Buffer.Span;
        if (peer.Size < 24)
        {
            return false;
        }

        var address = bytes.Slice(8, 16);
        return !address[..10].ContainsAnyExcept((byte)0) && address[10] == 0xFF && address[11] == 0xFF;
    }
}
