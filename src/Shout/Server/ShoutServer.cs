using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Proxy;

namespace Shout.Server;

/// <summary>
/// One Shout server process: every configured endpoint served by the same handler on one host.
/// Start it, read <see cref="Endpoints"/> for the bound addresses (port 0 becomes a real port), stop it.
/// </summary>
public sealed class ShoutServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(ShoutEndpoint Requested, ListenOptions Listen)> _bindings;

    private ShoutServer(WebApplication app, List<(ShoutEndpoint Requested, ListenOptions Listen)> bindings)
    {
        _app = app;
        _bindings = bindings;
    }

    /// <summary>The bound endpoints, after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<ShoutEndpoint> Endpoints => [.. _bindings.Select(b => Bound(b.Requested, b.Listen))];

    /// <summary>The server's metrics.</summary>
    public ShoutMetrics Metrics => _app.Services.GetRequiredService<ShoutMetrics>();

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Builds a server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="options">What to serve.</param>
    /// <param name="configureLogging">Optional logging setup (providers, levels).</param>
    public static ShoutServer Create(ShoutServerOptions options, Action<ILoggingBuilder>? configureLogging = null)
        => Create(options, configureLogging, configureServices: null);

    /// <summary>Builds a server whose services can be replaced first (tests substitute the <see cref="TimeProvider"/>).</summary>
    internal static ShoutServer Create(ShoutServerOptions options, Action<ILoggingBuilder>? configureLogging,
        Action<IServiceCollection>? configureServices)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ShoutMetrics>();
        configureServices?.Invoke(builder.Services);
        // Every timeout runs on this clock; tests put a fake one in first.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);

        var bindings = new List<(ShoutEndpoint, ListenOptions)>();
        var endpoints = options.Listen.Count > 0 ? options.Listen : [ShoutEndpoint.Parse(ShoutServerOptions.DefaultListen)];
        if (options.ReusePort)
        {
            builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = ReusePortSocket.CreateBound);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var endpoint in endpoints)
            {
                Bind(kestrel, endpoint, bindings, options);
            }
        });

        return new ShoutServer(builder.Build(), bindings);
    }

    private static void Bind(KestrelServerOptions kestrel, ShoutEndpoint endpoint, List<(ShoutEndpoint, ListenOptions)> bindings,
        ShoutServerOptions options)
    {
        void Configure(ListenOptions listen)
        {
            // First in the chain: every later layer (TLS, limits, access lists, the handler) sees the real client.
            if (options.ProxyProtocol)
            {
                var services = listen.ApplicationServices;
                var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<ProxyProtocolMiddleware>();
                listen.Use(next => new ProxyProtocolMiddleware(next, options, services.GetRequiredService<ShoutMetrics>(),
                    services.GetRequiredService<TimeProvider>(), logger).OnConnectedAsync);
            }

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
        foreach (var endpoint in Endpoints)
        {
            ServerLog.Listening(logger, endpoint.ToString());
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops accepting, drains connections within the shutdown timeout, then aborts the rest.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
