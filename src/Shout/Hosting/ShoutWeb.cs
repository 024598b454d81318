using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;
using Shout.Protocols;
using Shout.Transports.Tls;
using Shout.Transports.WebSockets;
using Shout.Web;

namespace Shout.Hosting;

/// <summary>
/// The web endpoint on the server's own host: services, the HTTP listener, and the routes
/// <c>/</c> (the page), <c>/ws</c>, <c>/live</c>, <c>/healthz</c>, <c>/metrics</c>, <c>/toxiproxy</c>.
/// </summary>
internal static class ShoutWeb
{
    public static void AddServices(IServiceCollection services, ShoutWebOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<EmbeddedAssets>();
        services.AddSingleton<WebSocketShoutService>();

        // The echo unless the mode registered its own (room mode: a room member).
        services.TryAddSingleton(FramedProtocol.Echo);
        services.AddSingleton<TraceFeed>();
        if (options.Trace)
        {
            // Off, the trace is a constant in the frame: no capture, no hosted work.
            services.AddHostedService(s => s.GetRequiredService<TraceFeed>());
        }

        services.AddSingleton<LiveFeed>();
        services.AddHostedService(s => s.GetRequiredService<LiveFeed>());
        services.AddSingleton<PrometheusExport>();
        services.AddHostedService(s => s.GetRequiredService<PrometheusExport>());
        services.AddHealthChecks().AddCheck<ShoutHealthCheck>("shout");
        services.AddSingleton<OriginCheck>();
        services.AddSingleton<WebRefusals>();
        services.AddSingleton<WebToxics>(); // serve --toxic's API for the page's panel, /toxiproxy
    }

    /// <summary>Listens for HTTP at the options' address; returns the binding to read the bound port from.</summary>
    public static ListenOptions Listen(KestrelServerOptions kestrel, Uri address, IPAddress ip, Func<X509Certificate2?> certificate, TimeSpan handshakeTimeout)
    {
        ListenOptions? bound = null;
        kestrel.Listen(ip, address.Port, l =>
        {
            bound = l;

            // Admitted first, before TLS: a denied or surplus client costs no handshake (WebAdmission).
            var kind = address.Scheme == Uri.UriSchemeHttps ? Sessions.TransportKind.Wss : Sessions.TransportKind.Ws;
            l.Use(new WebAdmission(l.ApplicationServices.GetRequiredService<Sessions.SessionAdmission>(), kind).Middleware);
            if (address.Scheme == Uri.UriSchemeHttps)
            {
                // Read per handshake, so a reloaded certificate serves the next client.
                l.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificateSelector = (_, _) => certificate(), HandshakeTimeout = handshakeTimeout });
                TlsIdleBuffers.UseTlsIdleBuffers(l);
            }
        });
        return bound!;
    }

    /// <summary>The bound address as a URL (port 0 resolved to the real port).</summary>
    public static Uri Address(ListenOptions listen, Uri requested)
    {
        var endPoint = listen.IPEndPoint!;
        var host = endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]" : endPoint.Address.ToString();
        return new Uri($"{requested.Scheme}://{host}:{endPoint.Port}/");
    }

    public static void Map(WebApplication app)
    {
        // Before any route: a connection over a limit is answered 503, then a request's Host and admin paths are checked.
        app.Use(WebAdmission.AnswerRefusedAsync);
        app.Use(new WebGate(app.Services.GetRequiredService<ShoutWebOptions>()).InvokeAsync);
        // Before the WebSocket middleware, so the socket it creates reads through the frame watch.
        app.Use(FrameLimitStream.Middleware(app.Services.GetRequiredService<ShoutWebOptions>().MaxMessageBytes));
        app.UseWebSockets();
        var assets = app.Services.GetRequiredService<EmbeddedAssets>();
        foreach (var path in assets.Paths)
        {
            app.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], context => assets.ServeAsync(context, path));
        }

        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], context => assets.ServeAsync(context, "/index.html"));
        var webSockets = app.Services.GetRequiredService<WebSocketShoutService>();
        app.Map("/ws", webSockets.HandleAsync);
        app.Map("/ws/{target}", webSockets.HandleAsync);
        app.MapGet("/live", app.Services.GetRequiredService<LiveFeed>().StreamAsync);
        app.MapHealthChecks("/healthz");
        app.MapMethods("/metrics", [HttpMethods.Get, HttpMethods.Head], app.Services.GetRequiredService<PrometheusExport>().ScrapeAsync);
        if (app.Services.GetRequiredService<ShoutWebOptions>().ReloadEndpoint)
        {
            app.MapPost("/reload", ActivatorUtilities.CreateInstance<ReloadGate>(app.Services).HandleAsync);
        }

        WebToxics.Map(app);
    }
}
