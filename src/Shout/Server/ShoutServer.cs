using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Diagnostics;
using Shout.Endpoints;
using Shout.Web;

namespace Shout.Server;

/// <summary>
/// One Shout server process: every configured endpoint served by the same handler on one host.
/// Start it, read <see cref="Endpoints"/> for the bound addresses (port 0 becomes a real port), stop it.
/// </summary>
public sealed class ShoutServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(ShoutEndpoint Requested, ListenOptions Listen)> _bindings;
    private readonly ListenOptions? _web;

    private ShoutServer(WebApplication app, List<(ShoutEndpoint Requested, ListenOptions Listen)> bindings, ListenOptions? web)
    {
        _app = app;
        _bindings = bindings;
        _web = web;
    }

    /// <summary>The bound endpoints, after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<ShoutEndpoint> Endpoints => [.. _bindings.Select(b => Bound(b.Requested, b.Listen))];

    /// <summary>
    /// The web endpoint's address after <see cref="StartAsync"/> (port 0 resolved), e.g.
    /// <c>http://127.0.0.1:8081/</c>; null when <see cref="ShoutServerOptions.Web"/> has no address.
    /// </summary>
    public Uri? WebAddress => _web is null ? null : ShoutWeb.Address(_web);

    /// <summary>The server's metrics.</summary>
    public ShoutMetrics Metrics => _app.Services.GetRequiredService<ShoutMetrics>();

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Builds a server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="options">What to serve.</param>
    /// <param name="configureLogging">Optional logging setup (providers, levels).</param>
    public static ShoutServer Create(ShoutServerOptions options, Action<ILoggingBuilder>? configureLogging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ShoutMetrics>();
        builder.Services.AddSingleton<BoundAddresses>();
        builder.Services.AddSingleton<IConnectionEvents>(s => new ConnectionEventLog(s.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.TryAddSingleton(TimeProvider.System);
        if (options.Web.Address is not null)
        {
            ShoutWeb.AddServices(builder.Services, options.Web);
        }

        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);

        var bindings = new List<(ShoutEndpoint, ListenOptions)>();
        var endpoints = options.Listen.Count > 0 ? options.Listen : [ShoutEndpoint.Parse(ShoutServerOptions.DefaultListen)];
        ListenOptions? web = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var endpoint in endpoints)
            {
                Bind(kestrel, endpoint, bindings);
            }

            if (options.Web.Address is { } address)
            {
                web = ShoutWeb.Listen(kestrel, address);
            }
        });

        var app = builder.Build();
        if (options.Web.Address is not null)
        {
            ShoutWeb.Map(app);
        }

        return new ShoutServer(app, bindings, web);
    }

    private static void Bind(KestrelServerOptions kestrel, ShoutEndpoint endpoint, List<(ShoutEndpoint, ListenOptions)> bindings)
    {
        void Configure(ListenOptions listen)
        {
            listen.UseConnectionHandler<ShoutConnectionHandler>();
            bindings.Add((endpoint, listen));
        }

        switch (endpoint.Transport)
        {
            case ShoutTransport.Tcp:
                kestrel.Listen(ResolveListenAddress(endpoint), endpoint.Port, Configure);
                break;
            case ShoutTransport.Unix:
                kestrel.ListenUnixSocket(endpoint.Path, Configure);
                break;
            default:
                throw new NotSupportedException($"{endpoint}: the {endpoint.Transport} transport cannot be served yet");
        }
    }

    /// <summary>The IP address a listen host names: an IP literal, <c>localhost</c> (loopback) or <c>*</c> (any).</summary>
    internal static IPAddress ResolveListenAddress(ShoutEndpoint endpoint)
    {
        if (endpoint.Host is "*")
        {
            return IPAddress.IPv6Any;
        }

        if (string.Equals(endpoint.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(endpoint.Host, out var address)
            ? address
            : throw new FormatException($"{endpoint}: listen on an IP address (0.0.0.0, [::], 127.0.0.1), localhost or *");
    }

    private static ShoutEndpoint Bound(ShoutEndpoint requested, ListenOptions listen) => listen.EndPoint switch
    {
        IPEndPoint ip => ShoutEndpoint.For(requested.Transport, ip),
        _ => requested,
    };

    /// <summary>Starts listening on every endpoint.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        var logger = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Shout");
        var listening = Endpoints.Select(e => e.ToString()).ToList();
        if (WebAddress is { } web)
        {
            listening.Add(web.ToString());
        }

        foreach (var endpoint in listening)
        {
            ServerLog.Listening(logger, endpoint);
        }

        var tcpPorts = Endpoints.Where(e => e.Transport is ShoutTransport.Tcp or ShoutTransport.Tls).Select(e => e.Port);
        _app.Services.GetRequiredService<BoundAddresses>().Set(listening, WebAddress is { } w ? tcpPorts.Append(w.Port) : tcpPorts);
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops accepting, drains connections within the shutdown timeout, then aborts the rest.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
