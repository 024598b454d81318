using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Shout.Toxics;
using Shout.Web;

namespace Shout.Hosting;

/// <summary>
/// <c>shout proxy</c>'s page on its API port: <c>GET /</c> is a page with the Toxics panel (the
/// serve page's <c>toxics.js</c>, pointed at <c>/proxies</c>) listing every proxy. The API alone
/// refuses every browser (toxiproxy's rule: a page anywhere could otherwise POST to 127.0.0.1:8474);
/// with the page, a browser is served only from it:
/// <list type="bullet">
/// <item>its <c>Host</c> must name this machine (an IP literal, <c>localhost</c>, the host name), as on
/// the web port, else 421: with DNS rebinding another site's name resolves to 127.0.0.1, and its
/// page would be "same origin" with the API;</item>
/// <item>a change (<c>POST</c>, <c>PATCH</c>, <c>DELETE</c>) must carry exactly the page's own
/// <c>Origin</c> (<see cref="OriginCheck.IsOwnOrigin"/>, the check the web port's toxics use), and a
/// read any <c>Origin</c> it carries, else 403; a browser read without <c>Origin</c> only from the
/// page itself or a typed address (<c>Sec-Fetch-Site</c>).</item>
/// </list>
/// A request that is not a browser's (no <c>Origin</c>, no <c>Sec-Fetch-Site</c>, no <c>Mozilla/</c>
/// User-Agent: curl, toxiproxy clients) is served as without the page. Each refusal is toxiproxy's
/// one line. Thread-safe.
/// </summary>
internal static class ProxyPage
{
    /// <summary>The page's files: its HTML, the panel's script and styles (the serve page's), the icon.</summary>
    private static readonly string[] Files = ["/proxy.html", "/toxics.js", "/toxics.css", "/app.css", "/favicon.svg"];

    public static void Map(WebApplication app)
    {
        var assets = new EmbeddedAssets();
        var gate = new WebGate(new ShoutWebOptions());
        app.Use((context, next) => GuardAsync(context, next, gate));
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], context => assets.ServeAsync(context, "/proxy.html"));
        foreach (var file in Files)
        {
            app.MapMethods(file, [HttpMethods.Get, HttpMethods.Head], context => assets.ServeAsync(context, file));
        }
    }

    private static Task GuardAsync(HttpContext context, RequestDelegate next, WebGate gate)
    {
        var request = context.Request;
        var headers = request.Headers;
        var site = headers["Sec-Fetch-Site"].ToString();
        var browser = headers.UserAgent.ToString().StartsWith("Mozilla/", StringComparison.Ordinal) || headers.Origin.Count > 0 || site.Length > 0;
        if (!browser)
        {
            return next(context);
        }

        if (request.Host.HasValue && !gate.Serves(request.Host.Host))
        {
            return ToxiproxyApi.ErrorAsync(context, StatusCodes.Status421MisdirectedRequest,
                "a browser reaches this API by an IP address, localhost or this machine's name, not another name (DNS rebinding)");
        }

        var read = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        if (read && IsPage(request.Path))
        {
            return next(context);
        }

        if (headers.Origin.Count > 0)
        {
            return OriginCheck.IsOwnOrigin(request)
                ? next(context)
                : ToxiproxyApi.ErrorAsync(context, StatusCodes.Status403Forbidden, "a browser may use this API only from its own page, not from another site's");
        }

        if (!read)
        {
            // Every browser sends Origin with a change, its own page's included: one without is not from the page.
            return ToxiproxyApi.ErrorAsync(context, StatusCodes.Status403Forbidden, "a browser may change the proxies only from this API's own page (the request names no Origin)");
        }

        return site is "" or "none" or "same-origin"
            ? next(context)
            : ToxiproxyApi.ErrorAsync(context, StatusCodes.Status403Forbidden, "a browser may use this API only from its own page, not from another site's");
    }

    private static bool IsPage(PathString path) => path == "/" || Array.IndexOf(Files, path.Value) >= 0;
}
