using System.Net;
using System.Net.Sockets;

namespace Shout.Sessions;

/// <summary>
/// How a peer's address is read, once for every transport: an IPv4 client reached over a
/// dual-stack socket (<c>::ffff:10.1.2.3</c>) is the IPv4 address it is, for the access lists, the
/// per-address limit, logs and the live view alike.
/// </summary>
internal static class PeerAddress
{
    /// <summary>The address rules are applied to; null for a peer without one (a Unix socket).</summary>
    public static IPAddress? Of(EndPoint? endPoint) => endPoint is IPEndPoint ip ? Normalize(ip.Address) : null;

    /// <summary>The IPv4 form of an IPv4-mapped IPv6 address; any other address unchanged.</summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>The peer as shown in logs and the live view: <c>10.1.2.3:5000</c>, <c>[::1]:5000</c>, <c>unix peer</c>.</summary>
    public static string Describe(EndPoint? endPoint) => endPoint switch
    {
        null => "?",
        UnixDomainSocketEndPoint => "unix peer",
        IPEndPoint ip => new IPEndPoint(Normalize(ip.Address), ip.Port).ToString(),
        _ => endPoint.ToString() ?? "?",
    };
}
