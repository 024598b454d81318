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

    public static async Task<ToxiproxyApi> StartAsync(ProxyCollection proxies, IPEndPoint endPoint, Action<ILoggingBuilder> logging,
        CancellationToken cancellationToken)
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
        app.Use(RefuseBrowsers);
        Map(app, proxies);
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

    private static void Map(IEndpointRouteBuilder app, ProxyCollection proxies)
    {
        string[] get = ["GET"], post = ["POST"], update = ["POST", "PATCH"], delete = ["DELETE"];
        Route(app, "/version", get, async c => await Json(c, 200, w =>
        {
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
        Route(app, "/proxies/{proxy}", get, async c => await Json(c, 200, w => ProxyJson.WriteProxy(w, proxies.Get(Name(c, "proxy")))));
        Route(app, "/proxies/{proxy}", update, async c =>
        {
            var proxy = proxies.Get(Name(c, "proxy"));
            var (listen, upstream, enabled) = ProxyJson.ReadProxyUpdate(await BodyAsync(c), proxy);
            proxies.Update(proxy.Name, listen, upstream, enabled);
            await Json(c, 200, w => ProxyJson.WriteProxy(w, proxy));
        });
        Route(app, "/proxies/{proxy}", delete, c =>
        {
            proxies.Remove(Name(c, "proxy"));
            return NoContent(c);
        });
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
                await Json(context, e.Status, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("error", e.Message);
                    w.WriteNumber("status", e.Status);
                    w.WriteEndObject();
                });
            }
            catch (BadHttpRequestException e)
            {
                await Json(context, e.StatusCode, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("error", e.Message);
                    w.WriteNumber("status", e.StatusCode);
                    w.WriteEndObject();
                });
            }
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
            await Json(context, 403, w =>
            {
                w.WriteStartObject();
                w.WriteString("error", "User agent not allowed: the API does not answer web pages");
                w.WriteNumber("status", 403);
                w.WriteEndObject();
            });
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
}
