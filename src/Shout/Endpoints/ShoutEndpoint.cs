using System.Globalization;
using System.Net;

namespace Shout.Endpoints;

/// <summary>The transports an endpoint address can name.</summary>
public enum ShoutTransport
{
    /// <summary><c>tcp://HOST:PORT</c>, or a bare <c>HOST:PORT</c>.</summary>
    Tcp,

    /// <summary><c>udp://HOST:PORT</c>: one answer datagram per datagram.</summary>
    Udp,

    /// <summary><c>unix:///path/to.sock</c>: a Unix domain stream socket.</summary>
    Unix,

    /// <summary><c>tls://HOST:PORT</c>: TCP with TLS.</summary>
    Tls,

    /// <summary><c>ws://HOST:PORT/ws</c> or <c>wss://…</c>: WebSocket (client side).</summary>
    WebSocket,
}

/// <summary>
/// One address in Shout's single syntax, shared by the server (<c>--listen</c>) and the clients
/// (<c>--address</c>): <c>tcp://HOST:PORT</c>, <c>udp://HOST:PORT</c>, <c>unix:///path</c>,
/// <c>tls://HOST:PORT</c>, <c>ws://HOST:PORT/ws</c>, or a bare <c>HOST:PORT</c> meaning TCP.
/// IPv6 literals are written in brackets (<c>[::1]:8080</c>). Immutable.
/// </summary>
public sealed record ShoutEndpoint
{
    /// <summary>The longest Unix socket path Linux takes (<c>sockaddr_un.sun_path</c>), in bytes.</summary>
    public const int MaxUnixPathBytes = 108;

    private ShoutEndpoint(ShoutTransport transport, string host, int port, string path, bool secure)
    {
        Transport = transport;
        Host = host;
        Port = port;
        Path = path;
        Secure = secure;
    }

    /// <summary>The transport.</summary>
    public ShoutTransport Transport { get; }

    /// <summary>Host name or IP literal without brackets; empty for Unix sockets.</summary>
    public string Host { get; }

    /// <summary>Port (0 lets the system choose when listening); 0 for Unix sockets.</summary>
    public int Port { get; }

    /// <summary>Unix socket path, or the WebSocket request path.</summary>
    public string Path { get; }

    /// <summary>True for <c>wss://</c>.</summary>
    public bool Secure { get; }

    /// <summary>A TCP endpoint.</summary>
    public static ShoutEndpoint ForTcp(string host, int port) => new(ShoutTransport.Tcp, host, port, "", false);

    /// <summary>An endpoint of any IP transport at an IP end point.</summary>
    public static ShoutEndpoint For(ShoutTransport transport, IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return new(transport, endPoint.Address.ToString(), endPoint.Port, transport == ShoutTransport.WebSocket ? "/ws" : "", false);
    }

    /// <summary>A Unix socket endpoint.</summary>
    public static ShoutEndpoint ForUnix(string path) => new(ShoutTransport.Unix, "", 0, path, false);

    /// <summary>Parses an address; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static ShoutEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        if (value.Length == 0)
        {
            throw new FormatException("empty address; expected e.g. tcp://127.0.0.1:8080");
        }

        var schemeEnd = value.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? "tcp" : value[..schemeEnd].ToLowerInvariant();
        var rest = schemeEnd < 0 ? value : value[(schemeEnd + 3)..];
        if (schemeEnd < 0 && SocatAddress.TryRead(text, value, out var socatScheme, out var socatRest))
        {
            (scheme, rest) = (socatScheme, socatRest);
        }
        var transport = scheme switch
        {
            "tcp" => ShoutTransport.Tcp,
            "udp" => ShoutTransport.Udp,
            "unix" => ShoutTransport.Unix,
            "tls" => ShoutTransport.Tls,
            "ws" or "wss" => ShoutTransport.WebSocket,
            _ => throw new FormatException($"'{text}': unknown scheme '{scheme}://'; use tcp, udp, unix, tls, ws or wss"),
        };

        if (transport == ShoutTransport.Unix)
        {
            if (rest.Length == 0)
            {
                throw new FormatException($"'{text}': a Unix socket address needs a path, e.g. unix:///tmp/shout.sock");
            }

            // The kernel's sockaddr_un holds 108 bytes; a longer path fails deep in the socket layer otherwise.
            if (System.Text.Encoding.UTF8.GetByteCount(rest) > MaxUnixPathBytes)
            {
                throw new FormatException($"'{text}': a Unix socket path is at most {MaxUnixPathBytes} bytes, this one has {System.Text.Encoding.UTF8.GetByteCount(rest)}");
            }

            return ForUnix(rest);
        }

        var path = "";
        if (transport == ShoutTransport.WebSocket)
        {
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            path = slash < 0 ? "/ws" : rest[slash..];
            rest = slash < 0 ? rest : rest[..slash];
        }

        var (host, port) = SplitHostPort(text, rest);
        return new(transport, host, port, path, scheme == "wss");
    }

    /// <summary>Parses an address, returning false with a message instead of throwing.</summary>
    public static bool TryParse(string text, out ShoutEndpoint? endpoint, out string error)
    {
        try
        {
            endpoint = Parse(text);
            error = "";
            return true;
        }
        catch (FormatException e)
        {
            endpoint = null;
            error = e.Message;
            return false;
        }
    }

    private static (string Host, int Port) SplitHostPort(string text, string hostPort)
    {
        string host;
        string portText;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= hostPort.Length || hostPort[close + 1] != ':')
            {
                throw new FormatException($"'{text}': an IPv6 address is written [ADDRESS]:PORT, e.g. [::1]:8080");
            }

            host = hostPort[1..close];
            portText = hostPort[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                throw new FormatException($"'{text}': '{host}' is not an IPv6 address");
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            if (colon < 0 && int.TryParse(hostPort, NumberStyles.None, CultureInfo.InvariantCulture, out var bare))
            {
                // "-a 9000", as nc takes a bare port: say what is missing, the host.
                throw new FormatException($"'{text}': missing host; expected HOST:PORT, e.g. 127.0.0.1:{bare}");
            }

            if (colon < 0)
            {
                throw new FormatException($"'{text}': missing port; expected HOST:PORT, e.g. 127.0.0.1:8080");
            }

            host = hostPort[..colon];
            portText = hostPort[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                throw new FormatException($"'{text}': put an IPv6 address in brackets, e.g. [::1]:8080");
            }
        }

        if (host.Length == 0)
        {
            throw new FormatException($"'{text}': missing host; use 0.0.0.0 to listen on every IPv4 address");
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new FormatException($"'{text}': port '{portText}' is not a number from 0 to 65535");
        }

        return (host, port);
    }

    /// <summary>The address in canonical form, e.g. <c>tcp://127.0.0.1:8080</c>.</summary>
    public override string ToString() => Transport switch
    {
        ShoutTransport.Unix => "unix://" + Path,
        ShoutTransport.WebSocket => $"{(Secure ? "wss" : "ws")}://{HostForUri}:{Port.ToString(CultureInfo.InvariantCulture)}{Path}",
        _ => $"{Transport.ToString().ToLowerInvariant()}://{HostForUri}:{Port.ToString(CultureInfo.InvariantCulture)}",
    };

    private string HostForUri => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
}
