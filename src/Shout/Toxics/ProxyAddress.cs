using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.Toxics;

/// <summary>
/// A proxy's listen or upstream address: toxiproxy's bare <c>HOST:PORT</c>, Shout's
/// <c>tcp://HOST:PORT</c>, <c>udp://HOST:PORT</c> or <c>unix:///path</c>. Shown back as toxiproxy
/// shows it (HOST:PORT), Unix sockets as <c>unix:///path</c> and UDP as <c>udp://HOST:PORT</c>.
/// </summary>
internal sealed record ProxyAddress(ShoutEndpoint Endpoint)
{
    public bool IsUnix => Endpoint.Transport == ShoutTransport.Unix;

    /// <summary>A tls:// address: the proxy terminates TLS there (listen) or encrypts to it again (upstream).</summary>
    public bool IsTls => Endpoint.Transport == ShoutTransport.Tls;

    /// <summary>A udp:// address: datagrams per client source, not streams.</summary>
    public bool IsDatagram => Endpoint.Transport == ShoutTransport.Udp;

    public static bool TryParse(string text, out ProxyAddress? address, out string error)
    {
        address = null;
        if (!ShoutEndpoint.TryParse(text, out var endpoint, out error))
        {
            return false;
        }

        if (endpoint!.Transport is not (ShoutTransport.Tcp or ShoutTransport.Unix or ShoutTransport.Udp or ShoutTransport.Tls))
        {
            error = $"'{text}': the proxy forwards tcp://, tls://, unix:// and udp:// (ws is not done yet)";
            return false;
        }

        address = new ProxyAddress(endpoint);
        return true;
    }

    public override string ToString() => IsUnix
        ? "unix://" + Endpoint.Path
        : (IsDatagram ? "udp://" : IsTls ? "tls://" : "") + HostForUri + ":" + Endpoint.Port;

    private string HostForUri => Endpoint.Host.Contains(':', StringComparison.Ordinal) ? $"[{Endpoint.Host}]" : Endpoint.Host;

    /// <summary>The socket end points this address means (a host name may give several).</summary>
    public async Task<EndPoint[]> ResolveAsync(CancellationToken cancellationToken)
    {
        if (IsUnix)
        {
            return [new UnixDomainSocketEndPoint(Endpoint.Path)];
        }

        if (IPAddress.TryParse(Endpoint.Host, out var ip))
        {
            return [new IPEndPoint(ip, Endpoint.Port)];
        }

        var all = await Dns.GetHostAddressesAsync(Endpoint.Host, cancellationToken).ConfigureAwait(false);
        return [.. all.Select(a => (EndPoint)new IPEndPoint(a, Endpoint.Port))];
    }

    public Socket NewSocket(EndPoint endPoint) => Endpoint.Transport switch
    {
        ShoutTransport.Unix => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified),
        ShoutTransport.Udp => new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp),
        _ => new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true },
    };

    /// <summary>A listen address with the port the system chose in place of 0.</summary>
    public ProxyAddress Bound(EndPoint local) => local is IPEndPoint ip
        ? new ProxyAddress(IsDatagram || IsTls ? ShoutEndpoint.Parse($"{(IsTls ? "tls" : "udp")}://{HostForUri}:{ip.Port}") : ShoutEndpoint.ForTcp(Endpoint.Host, ip.Port))
        : this;
}
