using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shout.Toxics;

/// <summary>
/// toxiproxy's REST API over a <see cref="ProxyCollection"/>, on its own port: the same paths,
/// JSON shapes and status codes, so toxiproxy's client libraries drive Shout's proxy unchanged.
/// Errors are toxiproxy's {"error": "one line", "status": N}.
/// </summary>
internal sealed class ToxiproxyApi : IAsyncDisposable
{
    /// <summary>The version /version reports (toxiproxy's API version that clients expect, and Shout's).</summary>
    public const string Version = "2.12.0-shout";

    /// <summary>The largest request body taken.</summary>
    private const long MaxBody = 1 << 20;

    private readonly WebApplication _app;

    private ToxiproxyApi(WebApplication app) => _app = app;

    /// <summary>The address the API listens on (http://HOST:PORT).</summary>
    public string Address { get; private set; } = "";

    /// <param name="proxies">The proxies the API shows and changes.</param>
    /// <param name="endPoint">Where it listens.</param>
    /// <param name="logging">Where its log goes.</param>
    /// <param name="page">
    /// Null: the API refuses every browser (<see cref="RefuseBrowsers"/>). Else it maps a page for
    /// browsers on the same port (<c>shout proxy</c>'s, composed in Hosting) and takes over the browser
    /// check: it must let a browser through only from that page, since the page's requests are a
    /// browser's (a <c>Mozilla/</c> User-Agent, an <c>Origin</c> on each change).
    /// </param>
    /// <param name="cancellationToken">Stops a slow start.</param>
    public static async Task<ToxiproxyApi> StartAsync(ProxyCollection proxies, IPEndPoint endPoint, Action<ILoggingBuilder> logging,
        Action<WebApplication>? page, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging(builder.Logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = MaxBody;
            k.Listen(endPoint);
        });
        var app = builder.Build();
        if (page is null)
        {
            app.Use(RefuseBrowsers);
        }
        else
        {
            page(app);
        }

        Map(app, () => proxies, fixedProxies: false);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var api = new ToxiproxyApi(app)
        {
            Address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<IServerAddressesFeature>()!.Addresses.First(),
        };
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Maps the API's routes on <paramref name="app"/> (its own port, or a group under a prefix of the
    /// server's web port). <paramref name="proxyCollection"/> is read per request, so the collection may come
    /// later than the routes, and throws a <see cref="ToxiproxyError"/> when there is none.
    /// With <paramref name="fixedProxies"/> (serve --toxic's fronts, the server's own listeners)
    /// proxies cannot be created, deleted or moved: only enabled and the toxics change.
    /// </summary>
    internal static void Map(IEndpointRouteBuilder app, Func<ProxyCollection> proxyCollection, bool fixedProxies)
    {
        string[] get = ["GET"], post = ["POST"], update = ["POST", "PATCH"];
        var proxies = new LateProxies(proxyCollection);
        Route(app, "/version", get, async c => await Json(c, 200, w =>
        {
            proxies.Require(); // on the web port: 404 when the server has no toxics, as every path here
            w.WriteStartObject();
            w.WriteString("version", Version);
            w.WriteEndObject();
        }));
        Route(app, "/reset", post, c =>
        {
            proxies.Reset();
            return NoContent(c);
        });
        Route(app, "/proxies", get, async c => await Json(c, 200, w =>
        {
            w.WriteStartObject();
            foreach (var proxy in proxies.All)
            {
                w.WritePropertyName(proxy.Name);
                ProxyJson.WriteProxy(w, proxy);
            }

            w.WriteEndObject();
        }));
        if (!fixedProxies)
        {
            MapCreateAndDelete(app, proxies);
        }

        Route(app, "/proxies/{proxy}", get, async c => await Json(c, 200, w => ProxyJson.WriteProxy(w, proxies.Get(Name(c, "proxy")))));
        Route(app, "/proxies/{proxy}", update, async c =>
        {
            var proxy = proxies.Get(Name(c, "proxy"));
            var (listen, upstream, enabled) = ProxyJson.ReadProxyUpdate(await BodyAsync(c), proxy);
            if (fixedProxies && (listen != proxy.Listen || upstream != proxy.Upstream))
            {
                throw new ToxiproxyError(400, "this proxy stands in front of the server's own listener: its listen and upstream stay; only enabled and its toxics change");
            }

            proxies.Update(proxy.Name, listen, upstream, enabled);
            await Json(c, 200, w => ProxyJson.WriteProxy(w, proxy));
        });
        MapToxics(app, proxies);
    }

    private static void MapCreateAndDelete(IEndpointRouteBuilder app, LateProxies proxies)
    {
        string[] post = ["POST"], delete = ["DELETE"];
        Route(app, "/proxies", post, async c =>
        {
            var proxy = proxies.Add(ProxyJson.ReadProxy(await BodyAsync(c)));
            await Json(c, 201, w => ProxyJson.WriteProxy(w, proxy));
        });
        Route(app, "/populate", post, async c =>
        {
            var created = proxies.Populate(ProxyJson.ReadProxyList(await BodyAsync(c)));
            await Json(c, 201, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("proxies");
                foreach (var proxy in created)
                {
                    ProxyJson.WriteProxy(w, proxy);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
        });
        Route(app, "/proxies/{proxy}", delete, c =>
        {
            proxies.Remove(Name(c, "proxy"));
            return NoContent(c);
        });
    }

    private static void MapToxics(IEndpointRouteBuilder app, LateProxies proxies)
    {
        string[] get = ["GET"], post = ["POST"], update = ["POST", "PATCH"], delete = ["DELETE"];
        Route(app, "/proxies/{proxy}/toxics", get, async c => await Json(c, 200, w => ProxyJson.WriteToxics(w, proxies.Get(Name(c, "proxy")).Toxics.Current)));
        Route(app, "/proxies/{proxy}/toxics", post, async c =>
        {
            var proxy = proxies.Get(Name(c, "proxy"));
            var toxic = ProxyJson.ReadToxic(await BodyAsync(c));
            if (proxy.Refuses(toxic) is { } reason)
            {
                throw new ToxiproxyError(400, reason);
            }

            if (!proxy.Toxics.TryAdd(toxic))
            {
                throw new ToxiproxyError(409, "toxic already exists");
            }

            await Json(c, 200, w => ProxyJson.WriteToxic(w, toxic));
        });
        Route(app, "/proxies/{proxy}/toxics/{toxic}", get, async c =>
        {
            var toxic = proxies.Get(Name(c, "proxy")).Toxics.Find(Name(c, "toxic")) ?? throw ToxiproxyError.ToxicNotFound();
            await Json(c, 200, w => ProxyJson.WriteToxic(w, toxic));
        });
        Route(app, "/proxies/{proxy}/toxics/{toxic}", update, async c =>
        {
            var proxy = proxies.Get(Name(c, "proxy"));
            var toxic = proxy.Toxics.Find(Name(c, "toxic")) ?? throw ToxiproxyError.ToxicNotFound();
            var updated = ProxyJson.ReadToxicUpdate(await BodyAsync(c), toxic);
            if (!proxy.Toxics.TryReplace(updated))
            {
                throw ToxiproxyError.ToxicNotFound();
            }

            await Json(c, 200, w => ProxyJson.WriteToxic(w, updated));
        });
        Route(app, "/proxies/{proxy}/toxics/{toxic}", delete, c =>
        {
            if (!proxies.Get(Name(c, "proxy")).Toxics.TryRemove(Name(c, "toxic")))
            {
                throw ToxiproxyError.ToxicNotFound();
            }

            return NoContent(c);
        });
    }

    private static void Route(IEndpointRouteBuilder app, string pattern, string[] methods, RequestDelegate handler) =>
        app.MapMethods(pattern, methods, async context =>
        {
            try
            {
                await handler(context);
            }
            catch (ToxiproxyError e)
            {
                await ErrorAsync(context, e.Status, e.Message);
            }
            catch (BadHttpRequestException e)
            {
                await ErrorAsync(context, e.StatusCode, e.Message);
            }
        });

    /// <summary>toxiproxy's error answer: {"error": "one line", "status": N}.</summary>
    internal static Task ErrorAsync(HttpContext context, int status, string message) => Json(context, status, w =>
    {
        w.WriteStartObject();
        w.WriteString("error", message);
        w.WriteNumber("status", status);
        w.WriteEndObject();
    });

    /// <summary>
    /// A web page must not drive the proxy (a page anywhere could otherwise POST to 127.0.0.1:8474
    /// and break the user's network): as toxiproxy, a browser's User-Agent gets 403, and so does any
    /// request with an <c>Origin</c> (browsers send one on every cross-site POST; API clients do not).
    /// </summary>
    private static async Task RefuseBrowsers(HttpContext context, RequestDelegate next)
    {
        var agent = context.Request.Headers.UserAgent.ToString();
        if (agent.StartsWith("Mozilla/", StringComparison.Ordinal) || context.Request.Headers.Origin.Count > 0)
        {
            await ErrorAsync(context, 403, "User agent not allowed: the API does not answer web pages");
            return;
        }

        await next(context);
    }

    private static string Name(HttpContext context, string key) => context.Request.RouteValues[key] as string ?? "";

    private static async Task<JsonElement> BodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        return ProxyJson.Parse(await reader.ReadToEndAsync(context.RequestAborted));
    }

    private static Task NoContent(HttpContext context)
    {
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    private static async Task Json(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        buffer.WriteByte((byte)'\n');
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted);
    }

    /// <summary>The collection, asked for at each request (it may be attached after the routes are mapped).</summary>
    private sealed class LateProxies(Func<ProxyCollection> get)
    {
        public ToxicProxy[] All => get().All;

        /// <summary>Throws the accessor's error when there is no collection.</summary>
        public void Require() => get();

        public ToxicProxy Get(string name) => get().Get(name);

        public ToxicProxy Add(ProxyInput input) => get().Add(input);

        public ToxicProxy[] Populate(IReadOnlyList<ProxyInput> inputs) => get().Populate(inputs);

        public void Remove(string name) => get().Remove(name);

        public ToxicProxy Update(string name, ProxyAddress listen, ProxyAddress upstream, bool enabled) => get().Update(name, listen, upstream, enabled);

        public void Reset() => get().Reset();
    }
}
