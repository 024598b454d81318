using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Shout.Toxics;
using Shout.Web;

namespace Shout.Hosting;

/// <summary>
/// toxiproxy's API for <c>serve --toxic</c>'s front proxies on the web port, under <see cref="Prefix"/>
/// (the same routes, JSON and errors as <c>shout proxy</c>'s API; the fronts cannot be created,
/// deleted or moved), which the page's Toxics panel drives. Who may use it:
/// <list type="bullet">
/// <item>a client in the admin networks (<c>--admin-allow</c>, default loopback), as <c>/live</c> and
/// <c>/reload</c>: changing the toxics changes the network for every client;</item>
/// <item>and, for a request from a browser, the page's own origin: <c>GET</c> passes
/// <see cref="OriginCheck"/> (own origin or <c>--web-origin</c>), and a request that changes anything
/// with an <c>Origin</c> must carry exactly this page's (scheme and Host), so another site's page
/// (CSRF) is refused, even one allowed to read <c>/live</c>. A client without <c>Origin</c> (curl, a
/// toxiproxy client) is not a browser unless <c>Sec-Fetch-Site</c> says it is cross-site.</item>
/// </list>
/// The <c>Host</c> check before every route (WebGate) keeps DNS rebinding out. Without toxics every
/// path under the prefix is 404. Every refusal is one line, toxiproxy's
/// <c>{"error": …, "status": N}</c>. Thread-safe.
/// </summary>
internal sealed class WebToxics
{
    public const string Prefix = "/toxiproxy";

    private volatile ProxyCollection? _proxies;
    private volatile bool _stopping;

    /// <summary>Serves <paramref name="proxies"/> from now on (after the server's listeners and the fronts have started).</summary>
    public void Attach(ProxyCollection proxies) => _proxies = proxies;

    /// <summary>At the drain: the fronts stop accepting and nothing may enable them again.</summary>
    public void Stop() => _stopping = true;

    public static void Map(WebApplication app)
    {
        var toxics = app.Services.GetRequiredService<WebToxics>();
        var gate = new WebGate(app.Services.GetRequiredService<ShoutWebOptions>());
        var origins = app.Services.GetRequiredService<OriginCheck>();
        app.Use((context, next) => context.Request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase)
            ? toxics.GuardAsync(context, next, gate, origins)
            : next(context));
        var group = app.MapGroup(Prefix);
        ToxiproxyApi.Map(group, toxics.Proxies, fixedProxies: true);

        // Anything else under the prefix: one line, not an empty 404 or 405.
        app.Map(Prefix, context => ToxiproxyApi.ErrorAsync(context, 404, toxics.NotFound()));
        app.Map(Prefix + "/{**rest}", context => ToxiproxyApi.ErrorAsync(context, 404, toxics.NotFound()));
    }

    private ProxyCollection Proxies() =>
        _stopping ? throw new ToxiproxyError(503, "the server is stopping; its toxics stay as they are")
        : _proxies ?? throw new ToxiproxyError(404, NotFound());

    private string NotFound() => _proxies is null
        ? "this server has no toxics (start it with shout serve --toxic SPEC)"
        : $"not found: the toxics' API is {Prefix}/proxies, {Prefix}/proxies/NAME, {Prefix}/proxies/NAME/toxics[/TOXIC], {Prefix}/reset, {Prefix}/version";

    private Task GuardAsync(HttpContext context, RequestDelegate next, WebGate gate, OriginCheck origins)
    {
        if (_proxies is null)
        {
            // No toxics: nothing to protect, and the answer is the same 404 for everyone.
            return next(context);
        }

        if (!gate.IsAdmin(context.Connection.RemoteIpAddress))
        {
            return ToxiproxyApi.ErrorAsync(context, 403, $"{Prefix} is for the admin networks only (--admin-allow; default loopback)");
        }

        if (origins.Refusal(context) is { } refusal)
        {
            return ToxiproxyApi.ErrorAsync(context, 403, refusal);
        }

        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && request.Headers.Origin.Count > 0
            && !OriginCheck.IsOwnOrigin(request))
        {
            return ToxiproxyApi.ErrorAsync(context, 403, $"only this page may change the toxics, not a page from {request.Headers.Origin}");
        }

        return next(context);
    }
}
