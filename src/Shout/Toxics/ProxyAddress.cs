using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.Toxics;

/// <summary>
/// A proxy's listen or upstream address: toxiproxy's bare <c>HOST:PORT</c>, Shout's
/// <c>tcp://HOST:PORT</c>, <c>udp://HOST:PORT</c>, <c>unix:///path</c>, <c>tls://HOST:PORT</c> or
/// <c>ws://HOST:PORT/PATH</c> and <c>wss://…</c> (messages). Shown back as toxiproxy shows it
/// (HOST:PORT), the others with their scheme.
/// </summary>
internal sealed record ProxyAddress(ShoutEndpoint Endpoint)
{
    public bool IsUnix => Endpoint.Transport == ShoutTransport.Unix;

    /// <summary>A tls:// address: the proxy terminates TLS there (listen) or encrypts to it again (upstream).</summary>
    public bool IsTls => Endpoint.Transport == ShoutTransport.Tls;

    /// <summary>A udp:// address: datagrams per client source, not streams.</summary>
    public bool IsDatagram => Endpoint.Transport == ShoutTransport.Udp;

    /// <summary>A ws:// or wss:// address: WebSocket messages, not bytes.</summary>
    public bool IsMessages => Endpoint.Transport == ShoutTransport.WebSocket;

    /// <summary>What the proxy forwards at this address: udp, ws (messages) or stream.</summary>
    public string Kind => IsDatagram ? "udp" : IsMessages ? "ws" : "stream";

    /// <summary>Null when a proxy can forward from <paramref name="listen"/> to <paramref name="upstream"/>, else the one-line reason.</summary>
    public static string? Mismatch(ProxyAddress listen, ProxyAddress upstream) => listen.Kind == upstream.Kind
        ? null
        : $"listen {listen} and upstream {upstream}: a udp proxy forwards to udp, a ws or wss proxy to ws or wss, a tcp, tls or unix proxy to tcp, tls or unix";

    /// <summary>A ws:// or wss:// upstream's URI for a request whose path went past the listen path by <paramref name="rest"/> (with its query).</summary>
    public Uri WebSocketUri(string rest) =>
        new($"{(Endpoint.Secure ? "wss" : "ws")}://{HostForUri}:{Endpoint.Port}{Endpoint.Path.TrimEnd('/')}{rest}");

    public static bool TryParse(string text, out ProxyAddress? address, out string error)
    {
        address = null;
        if (!ShoutEndpoint.TryParse(text, out var endpoint, out error))
        {
            return false;
        }

        if (endpoint!.Transport is not (ShoutTransport.Tcp or ShoutTransport.Unix or ShoutTransport.Udp or ShoutTransport.Tls or ShoutTransport.WebSocket))
        {
            error = $"'{text}': the proxy forwards tcp://, tls://, unix://, udp://, ws:// and wss://";
            return false;
        }

        address = new ProxyAddress(endpoint);
        return true;
    }

    public override string ToString() => IsUnix
        ? "unix://" + Endpoint.Path
        : IsMessages
            ? $"{Scheme}://{HostForUri}:{Endpoint.Port}{Endpoint.Path}"
            : (IsDatagram ? "udp://" : IsTls ? "tls://" : "") + HostForUri + ":" + Endpoint.Port;

    private string Scheme => IsMessages ? (Endpoint.Secure ? "wss" : "ws") : IsDatagram ? "udp" : IsTls ? "tls" : "tcp";

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
        ? new ProxyAddress(IsDatagram || IsTls || IsMessages
            ? ShoutEndpoint.Parse($"{Scheme}://{HostForUri}:{ip.Port}{(IsMessages ? Endpoint.Path : "")}")
            : ShoutEndpoint.ForTcp(Endpoint.Host, ip.Port))
        : this;
}
