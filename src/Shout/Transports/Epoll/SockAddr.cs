using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Shout.Transports.Epoll;

/// <summary>
/// A socket address as the kernel gave it (sockaddr_in or sockaddr_in6), kept inline in the
/// connection: an idle connection holds 28 bytes instead of an IPEndPoint and its IPAddress
/// (72 bytes), and builds the endpoint when asked (a few times per connection: admission, session
/// open, logs). Other families (Unix) are turned into their endpoint at once by <see cref="ToEndPoint"/>.
/// </summary>
[InlineArray(Size)]
internal struct SockAddr
{
    /// <summary>sizeof(sockaddr_in6), the largest IP address.</summary>
    public const int Size = 28;

    private const int InetFamily = 2;
    private const int Inet6Family = 10;

    private static readonly IPEndPoint IPTemplate = new(IPAddress.Any, 0);
    private static readonly UnixDomainSocketEndPoint UnixTemplate = new("/");

    private byte _first;

    /// <summary>The address family in the first two bytes (native order).</summary>
    public static int FamilyOf(ReadOnlySpan<byte> raw) => raw.Length < 2 ? 0 : BitConverter.ToUInt16(raw);

    /// <summary>True for an IPv4 or IPv6 address that fits inline.</summary>
    public static bool IsIP(ReadOnlySpan<byte> raw) => FamilyOf(raw) is InetFamily or Inet6Family && raw.Length <= Size;

    /// <summary>The endpoint a <see cref="Socket"/> would report for these bytes (an IPv4-mapped IPv6 address stays IPv6, as there).</summary>
    public static EndPoint? ToEndPoint(ReadOnlySpan<byte> raw)
    {
        var family = FamilyOf(raw);
        if (family == 0)
        {
            return null;
        }

        var address = new SocketAddress(family switch
        {
            InetFamily => AddressFamily.InterNetwork,
            Inet6Family => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unix,
        }, raw.Length);
        raw.CopyTo(address.Buffer.Span);
        return family is InetFamily or Inet6Family ? IPTemplate.Create(address) : UnixTemplate.Create(address);
    }
}
