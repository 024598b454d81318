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
    /// Serve <c>POST /reload</c>, which reloads the server's settings like SIGHUP does. Default off.
    /// Needs <see cref="ReloadToken"/>: a request must carry it in a header.
    /// </summary>
    public bool ReloadEndpoint { get; set; }

    /// <summary>
    /// The secret a <c>POST /reload</c> must send as <c>Authorization: Bearer TOKEN</c> (or
    /// <c>X-Shout-Reload-Token</c>), at least 16 characters. A browser cannot add such a header to a
    /// form post or a no-cors fetch, so another site's page cannot reload the server. Default null.
    /// </summary>
    public string? ReloadToken { get; set; }

    /// <summary>Least time between two reloads through <c>POST /reload</c>; one sooner gets 429 with <c>Retry-After</c>. Default 1 s.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Origins (<c>https://example.org</c>, <c>http://host:8080</c>) whose pages may open <c>/ws</c> and
    /// <c>/live</c>, besides the page's own (the scheme and host the request came to). A browser request
    /// from any other origin is refused with 403 before the upgrade; a client that sends no
    /// <c>Origin</c> (not a browser) is served.
    /// </summary>
    public IList<Uri> AllowedOrigins { get; } = [];

    /// <summary>
    /// Draw the latest connections' packets on the page (sequence diagrams of the handshake, data and
    /// close). Captures the server's ports through libpcap, so it needs CAP_NET_RAW; without it the page
    /// says so. Default false: nothing is captured.
    /// </summary>
    public bool Trace { get; set; }

    /// <summary>Parses <c>--web-origin</c>: <c>http://HOST[:PORT]</c> or <c>https://HOST[:PORT]</c>, no path.</summary>
    /// <exception cref="FormatException">Not an origin.</exception>
    public static Uri ParseOrigin(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return OriginCheck.Parse(text.Trim())
            ?? throw new FormatException($"'{text}' is not an origin: write scheme://host[:port] with no path, e.g. https://example.org or http://127.0.0.1:8081");
    }

    /// <summary>Throws <see cref="ArgumentException"/> for settings that cannot work together.</summary>
    internal void Validate()
    {
        if (ReloadEndpoint && ReloadToken is null)
        {
            throw new ArgumentException("POST /reload needs a reload token (--reload-token-file FILE or SHOUT_RELOAD_TOKEN)", nameof(ReloadToken));
        }

        if (ReloadToken is { } token && global::Shout.Web.ReloadToken.Problem(token) is { } problem)
        {
            throw new ArgumentException(problem, nameof(ReloadToken));
        }

        if (ReloadInterval < TimeSpan.Zero)
        {
            throw new ArgumentException("the reload interval cannot be negative", nameof(ReloadInterval));
        }
    }
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
