using Microsoft.AspNetCore.Http;

namespace Shout.Web;

/// <summary>
/// Cross-site protection for <c>/ws</c> and <c>/live</c> (OWASP's cross-site WebSocket hijacking, RFC 6455
/// §10.2): a browser names the page that opened a request in <c>Origin</c>, and only the page's own origin
/// (the scheme and <c>Host</c> this request came to) or one of <see cref="ShoutWebOptions.AllowedOrigins"/>
/// may use them. A request without <c>Origin</c> is a non-browser client (shout's own clients, curl,
/// websocat) and is served, since browsers always send it on a WebSocket upgrade and on a cross-origin
/// <c>EventSource</c>; but one whose <c>Sec-Fetch-Site</c> says a browser sent it from another site (a
/// no-cors fetch, which carries no <c>Origin</c>) is refused. Thread-safe.
/// </summary>
internal sealed class OriginCheck(ShoutWebOptions options)
{
    private readonly HashSet<string> _allowed = options.AllowedOrigins.Select(Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Null when the request may go on; otherwise why not, in one line. An allowed origin other than the
    /// page's own gets <c>Access-Control-Allow-Origin</c>, which its <c>EventSource</c> needs to read <c>/live</c>.
    /// </summary>
    public string? Refusal(HttpContext context)
    {
        var request = context.Request;
        var origins = request.Headers.Origin;
        if (origins.Count == 0)
        {
            // A browser marks what it sends; "none" is a typed address or a bookmark, "same-origin" the page itself.
            var site = request.Headers["Sec-Fetch-Site"].ToString();
            return site is "" or "none" or "same-origin" ? null : $"a cross-site browser request (Sec-Fetch-Site: {Printable(site)}) without Origin";
        }

        if (origins.Count > 1)
        {
            return "more than one Origin header";
        }

        var origin = origins.ToString();
        if (origin == "null")
        {
            return "Origin null (a sandboxed, file or redirected page) is not allowed";
        }

        if (Parse(origin) is not { } uri)
        {
            return $"Origin {Printable(origin)} is not an http(s) origin";
        }

        var key = Key(uri);
        if (key.Equals(Own(request), StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!_allowed.Contains(key))
        {
            return $"Origin {key} is neither this page's own nor allowed by --web-origin";
        }

        context.Response.Headers.AccessControlAllowOrigin = key;
        context.Response.Headers.Vary = "Origin";
        return null;
    }

    /// <summary>An origin as <c>scheme://host[:port]</c>, or null when <paramref name="text"/> is not one (a path, a query, user info, another scheme).</summary>
    public static Uri? Parse(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.UserInfo.Length == 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0
        && !text.EndsWith('/')
            ? uri
            : null;

    /// <summary>
    /// True when the request's single <c>Origin</c> is exactly the page this server serves to it (the scheme
    /// and <c>Host</c> it came to): what a change from a browser must carry where only the server's own
    /// page may change things (the toxics' APIs).
    /// </summary>
    public static bool IsOwnOrigin(HttpRequest request) =>
        request.Headers.Origin.Count == 1 && Parse(request.Headers.Origin.ToString()) is { } origin
        && Own(request) is { Length: > 0 } own && Key(origin).Equals(own, StringComparison.OrdinalIgnoreCase);

    /// <summary>The comparable form: lower-case scheme and host, the port only when not the scheme's default.</summary>
    private static string Key(Uri origin) => origin.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);

    /// <summary>The origin of the page this server serves to this request, or "" when its Host is unusable.</summary>
    private static string Own(HttpRequest request) =>
        request.Host.HasValue && Uri.TryCreate($"{request.Scheme}://{request.Host.Value}", UriKind.Absolute, out var own) && own.AbsolutePath == "/"
            ? Key(own)
            : "";

    // A header is the client's text: keep a log line one short line whatever it holds.
    private static string Printable(string text)
    {
        var shown = text.Length > 100 ? text[..100] + "…" : text;
        return string.Concat(shown.Select(c => char.IsControl(c) ? '?' : c));
    }
}
