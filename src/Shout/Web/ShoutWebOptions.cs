namespace Shout.Web;

/// <summary>
/// The web endpoint: the browser page (<c>/</c>), the WebSocket service (<c>/ws</c>), the live view
/// stream (<c>/live</c>), <c>/healthz</c> and <c>/metrics</c>. Not thread-safe; set before starting.
/// </summary>
public sealed class ShoutWebOptions
{
    /// <summary>What <c>shout serve</c> uses unless told <c>--web none</c>.</summary>
    public const string DefaultAddress = "http://0.0.0.0:8081";

    /// <summary>
    /// Where to serve HTTP, e.g. <c>http://0.0.0.0:8081</c>, <c>http://[::]:8081</c>,
    /// <c>http://localhost:0</c> (port 0: the system chooses), or HTTPS (<c>https://0.0.0.0:8443</c>:
    /// the page and <c>wss://</c> with the certificate of <c>tls://</c> endpoints). Null (the default) serves no web endpoint.
    /// </summary>
    public Uri? Address { get; set; }

    /// <summary>Largest WebSocket message accepted, in bytes; a bigger one is closed with 1009. Default 1 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Most WebSocket connections open at once, on top of the server's connection limits (in which a
    /// WebSocket counts as one connection); more upgrades get HTTP 503. Default null: only the
    /// connection limits apply, as on every other transport.
    /// </summary>
    public int? MaxWebSockets { get; set; }

    /// <summary>Most live-view streams open at once; more get HTTP 503. Default 100.</summary>
    public int MaxLiveViewers { get; set; } = 100;

    /// <summary>How often the server pings an idle WebSocket. Default 15 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a ping may stay unanswered before the peer is taken for dead and aborted. Default 15 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Serve <c>POST /reload</c>, which reloads the server's settings like SIGHUP does. Default off:
    /// anyone who reaches the web endpoint could call it.
    /// </summary>
    public bool ReloadEndpoint { get; set; }

    /// <summary>
    /// Draw the latest connections' packets on the page (sequence diagrams of the handshake, data and
    /// close). Captures the server's ports through libpcap, so it needs CAP_NET_RAW; without it the page
    /// says so. Default false: nothing is captured.
    /// </summary>
    public bool Trace { get; set; }

    /// <summary>
    /// Networks whose clients may use <c>/metrics</c>, <c>/live</c> and <c>/reload</c> (the page,
    /// <c>/ws</c> and <c>/healthz</c> are for everyone the access lists admit). Empty (the default):
    /// loopback only, 127.0.0.0/8 and ::1.
    /// </summary>
    public IList<System.Net.IPNetwork> AdminAllow { get; } = [];

    /// <summary>
    /// Host names the web endpoint answers to (the <c>Host</c> header, port ignored); a request naming
    /// another gets 421. Empty (the default): IP literals, <c>localhost</c> and this machine's host
    /// name, the names no other site's DNS can point here (DNS rebinding).
    /// </summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>Parses <c>--web</c>: an <c>http://HOST:PORT</c> or <c>https://HOST:PORT</c> URL, or <c>none</c> (null).</summary>
    /// <exception cref="FormatException">Not an http URL with a host and port.</exception>
    public static Uri? ParseAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        if (value.Equals("none", StringComparison.OrdinalIgnoreCase) || value.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new FormatException($"'{text}': the web address is http://HOST:PORT or https://HOST:PORT (e.g. {DefaultAddress}) or none");
        }

        if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            throw new FormatException($"'{text}': the web address has no path; the page is served at /");
        }

        return uri;
    }
}
