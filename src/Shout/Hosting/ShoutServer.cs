using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Protocols.Framing;
using Shout.Protocols;
using Shout.Rooms;
using Shout.Sessions;
using Shout.Transports.Admission;
using Shout.Transports.Epoll;
using Shout.Transports.ProxyProtocol;
using Shout.Transports.Streams;
using Shout.Transports.Systemd;
using Shout.Transports.Tls;
using Shout.Transports.Udp;
using Shout.Transports.Unix;
using Shout.Transports;
using Shout.Web;

namespace Shout.Hosting;

/// <summary>
/// One Shout server process: every configured endpoint served by the same handler on one host.
/// Start it, read <see cref="Endpoints"/> for the bound addresses (port 0 becomes a real port), stop it.
/// </summary>
public sealed class ShoutServer : IAsyncDisposable
{
    private static readonly TimeSpan UnixProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly WebApplication _app;
    private readonly IReadOnlyList<ShoutEndpoint> _requested;
    private readonly ListenOptions?[] _bindings;
    private readonly ShoutServerOptions _options;
    private readonly Func<ListenOptions?> _web;
    private readonly int _passedFrom;

    private ShoutServer(WebApplication app, IReadOnlyList<ShoutEndpoint> requested, ListenOptions?[] bindings,
        ShoutServerOptions options, Func<ListenOptions?> web, int passedFrom)
    {
        _app = app;
        _requested = requested;
        _bindings = bindings;
        _options = options;
        _web = web;
        _passedFrom = passedFrom;
    }

    /// <summary>The bound endpoints in the order given, after <see cref="StartAsync"/> (port 0 becomes the real port).</summary>
    public IReadOnlyList<ShoutEndpoint> Endpoints
    {
        get
        {
            var udp = _app.Services.GetService<UdpShoutService>()?.Bound ?? [];
            var udpIndex = 0;
            return [.. _requested.Select((e, i) => e.Transport == ShoutTransport.Udp
                ? (udpIndex < udp.Count ? udp[udpIndex++] : e)
                : _bindings[i] is { } listen ? Bound(e, listen) : e)];
        }
    }

    /// <summary>The certificate new <c>tls://</c> handshakes get (loaded, self-signed or reloaded); null without one.</summary>
    public X509Certificate2? TlsCertificate => _app.Services.GetRequiredService<LiveSettings>().Current.Certificate;

    /// <summary>The least level of Shout's own log messages now (<see cref="ShoutServerOptions.LogLevel"/>, or as reloaded).</summary>
    public LogLevel LogLevel => _app.Services.GetRequiredService<LiveSettings>().Current.LogLevel;

    /// <summary>
    /// Reads the settings anew for <see cref="Reload"/> (e.g. the CLI's flags, variables and files);
    /// throws <see cref="FormatException"/> or <see cref="IOException"/> with a one-line message when they are wrong.
    /// </summary>
    public Func<ShoutServerOptions>? ReloadSource
    {
        get => _app.Services.GetRequiredService<SettingsReloader>().Source;
        set => _app.Services.GetRequiredService<SettingsReloader>().Source = value;
    }

    /// <summary>
    /// Applies the TLS certificate and key, access lists, connection limits and log level from
    /// <see cref="ReloadSource"/>; open connections keep going. A certificate that fails to load keeps the
    /// old one. Each change and error is logged in one line and returned. Thread-safe.
    /// </summary>
    public ReloadResult Reload() => _app.Services.GetRequiredService<SettingsReloader>().Reload();

    /// <summary>
    /// The web endpoint's address after <see cref="StartAsync"/> (port 0 resolved), e.g.
    /// <c>http://127.0.0.1:8081/</c>; null when <see cref="ShoutServerOptions.Web"/> has no address.
    /// </summary>
    public Uri? WebAddress => _web() is { } web && _options.Web.Address is { } requested ? ShoutWeb.Address(web, requested) : null;

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
        Action<IServiceCollection>? configureServices) => Create(options, configureLogging, configureServices, passed: null);

    /// <summary>Builds a server that serves <paramref name="passed"/> as if systemd had passed them (tests); null reads the environment.</summary>
    internal static ShoutServer Create(ShoutServerOptions options, Action<ILoggingBuilder>? configureLogging,
        Action<IServiceCollection>? configureServices, IReadOnlyList<InheritedSocket>? passed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // The host reads no configuration of its own: a server is configured by ShoutServerOptions alone. By
        // default the host would load appsettings.json from the working directory (whose Kestrel and Logging
        // sections would reconfigure the server behind the options' back) and watch that directory and
        // every directory below it for changes: started in /tmp or $HOME, one inotify watch per directory
        // (10,022 in /tmp on the build machine), held for the server's whole life.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        builder.Services.AddSingleton(options);
        AddSessionCore(builder.Services, options);
        AddProtocols(builder.Services, options);

        passed ??= options.Systemd ? InheritedSockets.FromEnvironment() : [];
        configureServices?.Invoke(builder.Services);
        // Every timeout runs on this clock; tests put a fake one in first.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BoundAddresses>();
        builder.Services.AddSingleton<IConnectionEvents>(s => new ConnectionEventLog(s.GetRequiredService<TimeProvider>()));
        if (options.Web.Address is not null)
        {
            ShoutWeb.AddServices(builder.Services, options.Web);
        }

        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        var (requested, endpoints) = ServedEndpoints(options, passed);
        AddStreamTransports(builder, options, passed);

        var bindings = new ListenOptions?[endpoints.Count];
        var servesTls = endpoints.Any(e => e.Transport == ShoutTransport.Tls) || options.Web.Address?.Scheme == Uri.UriSchemeHttps;
        var live = AddReload(builder.Services, options, servesTls);
        var webAddress = options.Web.Address is { } requestedWeb
            ? ListenAddress.Resolve(ShoutEndpoint.ForTcp(requestedWeb.Host.Trim('[', ']'), requestedWeb.Port)) : null;
        ListenOptions? web = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            for (var i = 0; i < endpoints.Count; i++)
            {
                if (endpoints[i].Transport != ShoutTransport.Udp)
                {
                    var index = i;
                    var socket = i >= requested.Count ? passed[i - requested.Count] : null;
                    Bind(kestrel, endpoints[i], socket, options, live, listen => bindings[index] = listen);
                }
            }

            if (options.Web.Address is { } address)
            {
                web = ShoutWeb.Listen(kestrel, address, webAddress!, () => live.Current.Certificate, options.Tls.HandshakeTimeout);

                // An upgraded WebSocket holds no more of its client's input than a TCP connection does.
                kestrel.Limits.MaxRequestBufferSize = ReadBufferLimit(options);
            }
        });

        AddDatagrams(builder.Services, options, endpoints, requested.Count, passed);
        var app = builder.Build();
        if (options.Web.Address is not null)
        {
            ShoutWeb.Map(app);
        }

        return new ShoutServer(app, endpoints, bindings, options, () => web, requested.Count);
    }

    /// <summary>The session core every transport shares: rules, admission, lifecycle, drain, metrics, the stream loop.</summary>
    private static void AddSessionCore(IServiceCollection services, ShoutServerOptions options)
    {
        services.AddSingleton<ShoutMetrics>();
        services.AddSingleton(new SessionRules(options.ToSessionSettings()));
        services.AddSingleton<SessionLifecycle>();
        services.AddSingleton<SessionRunner>();
        services.AddSingleton<SessionAdmission>();
        services.AddSingleton<DrainSignal>();
        services.AddSingleton<ShoutConnectionHandler>();
    }

    /// <summary>
    /// The one place that knows the mode: the one protocol factory every seam starts its sessions
    /// from. Echo and line are <see cref="FramedProtocol"/> (echo on the message seam in both, the
    /// web port's and the UDP service's default too); a room's members are <see cref="RoomProtocols"/>.
    /// </summary>
    private static void AddProtocols(IServiceCollection services, ShoutServerOptions options)
    {
        if (options.Mode != ShoutMode.Room)
        {
            services.AddSingleton<IProtocolFactory>(options.Mode == ShoutMode.Line
                ? new FramedProtocol.Factory(new LineFramer(options.MaxLineLength)) : FramedProtocol.Echo);
            return;
        }

        RoomServices.Add(services, options.Rooms, options.MaxLineLength);
        services.AddSingleton<IProtocolFactory>(s => new RoomProtocols(s.GetRequiredService<RoomHub>(), options.Rooms,
            options.MaxLineLength, s.GetRequiredService<TimeProvider>()));
    }

    /// <summary>
    /// The endpoints to serve: those asked for (the default when none and nothing was passed), then the
    /// passed sockets'. A WebSocket endpoint or an unresolvable address is refused here, before anything binds.
    /// </summary>
    private static (IReadOnlyList<ShoutEndpoint> Requested, IReadOnlyList<ShoutEndpoint> All) ServedEndpoints(ShoutServerOptions options,
        IReadOnlyList<InheritedSocket> passed)
    {
        IReadOnlyList<ShoutEndpoint> requested = options.Listen.Count == 0 && passed.Count > 0 ? [] : options.ListenOrDefault();
        IReadOnlyList<ShoutEndpoint> endpoints = [.. requested, .. passed.Select(p => p.Endpoint)];
        if (endpoints.FirstOrDefault(e => e.Transport == ShoutTransport.WebSocket) is { } webSocket)
        {
            throw new FormatException($"{webSocket}: WebSocket is served on the web endpoint; use --web http://HOST:PORT "
                + "(or https://HOST:PORT) and dial ws://HOST:PORT/ws (wss://)");
        }

        foreach (var endpoint in requested.Where(e => e.Transport != ShoutTransport.Unix))
        {
            // Now, not when Kestrel is configured at start, so a bad address is a FormatException here.
            ListenAddress.Resolve(endpoint);
        }

        return (requested, endpoints);
    }

    /// <summary>Kestrel's stream transports: the socket transport within the descriptor budget, and the epoll one in front of it when chosen.</summary>
    private static void AddStreamTransports(WebApplicationBuilder builder, ShoutServerOptions options, IReadOnlyList<InheritedSocket> passed)
    {
        builder.WebHost.UseSockets(sockets =>
        {
            options.Sockets.ApplyTo(sockets);

            // What a connection may hold of its client's input while its replies wait for a slow reader.
            // Kestrel's 1 MiB default measured ~1.3 MiB of pool memory per stalled client; the handler
            // consumes every read at once, so it only needs room for one line (line mode) and a read.
            sockets.MaxReadBufferSize = ReadBufferLimit(options);
        });
        if (options.Sockets.BlockSize > 0)
        {
            // Registered after Kestrel's default, so this is the factory the transport resolves.
            builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(s => new BlockMemoryPoolFactory(options.Sockets.BlockSize, s.GetRequiredService<TimeProvider>()));
        }

        var listenSockets = new ListenSockets(passed, options.ReusePort);
        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = listenSockets.Create);
        builder.Services.AddSingleton(listenSockets);
        builder.Services.AddHostedService<ListenerHandover>();
        // Every socket listener accepts within the descriptor budget (DescriptorBudget); the epoll one checks it itself.
        builder.Services.AddSingleton<IConnectionListenerFactory>(s => new GuardedListenerFactory(
            ActivatorUtilities.CreateInstance<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportFactory>(s),
            s.GetRequiredService<SessionRules>().Budget, s.GetRequiredService<ILoggerFactory>().CreateLogger("Shout.Server")));
        if (options.Transport == StreamTransport.Epoll)
        {
            // Registered after the socket transport, so Kestrel asks it first; it takes every stream listener, passed ones too.
            builder.Services.AddSingleton<IConnectionListenerFactory>(s => ActivatorUtilities.CreateInstance<EpollTransportFactory>(s, options.Sockets, ReadBufferLimit(options)));
        }
    }

    /// <summary>What a reload may change (<see cref="LiveSettings"/>, the certificate with it), sd_notify, and the reloader.</summary>
    private static LiveSettings AddReload(IServiceCollection services, ShoutServerOptions options, bool servesTls)
    {
        var certificate = servesTls ? ServerCertificates.Load(options.Tls) : null;
        var live = new LiveSettings(ReloadableSettings.From(options, certificate));
        services.AddSingleton(live);
        services.AddSingleton<SystemdNotify>();
        services.AddHostedService(s => s.GetRequiredService<SystemdNotify>());
        services.AddSingleton(s => new SettingsReloader(live, s.GetRequiredService<SessionRules>(), servesTls, s.GetRequiredService<SystemdNotify>(),
            s.GetRequiredService<ILogger<SettingsReloader>>(), new RestartOnlySettings(options)));
        return live;
    }

    /// <summary>UDP, which Kestrel lacks: a hosted service per server, and no HTTP server at all when UDP is all there is.</summary>
    private static void AddDatagrams(IServiceCollection services, ShoutServerOptions options, IReadOnlyList<ShoutEndpoint> endpoints,
        int requestedCount, IReadOnlyList<InheritedSocket> passed)
    {
        var udp = endpoints.Select((e, i) => (Endpoint: e, Passed: i >= requestedCount ? passed[i - requestedCount].Socket : null))
            .Where(e => e.Endpoint.Transport == ShoutTransport.Udp).ToList();
        if (udp.Count == 0)
        {
            return;
        }

        services.AddSingleton(sp => new UdpShoutService(udp, sp.GetRequiredService<SessionRules>(),
            sp.GetRequiredService<SessionAdmission>(), sp.GetRequiredService<SessionRunner>(), sp.GetRequiredService<ShoutMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<UdpShoutService>>(), sp.GetService<IProtocolFactory>(),
            sp.GetRequiredService<DrainSignal>()));
        services.AddHostedService(sp => sp.GetRequiredService<UdpShoutService>());
        if (udp.Count == endpoints.Count && options.Web.Address is null)
        {
            services.AddSingleton<Microsoft.AspNetCore.Hosting.Server.IServer, DatagramOnlyServer>();
        }
    }

    private static void Bind(KestrelServerOptions kestrel, ShoutEndpoint endpoint, InheritedSocket? passed, ShoutServerOptions options,
        LiveSettings live, Action<ListenOptions> bound)
    {
        void Configure(ListenOptions listen)
        {
            var services = listen.ApplicationServices;

            // PROXY first, before TLS (the header precedes the handshake), limits and access lists:
            // every later layer sees the real client as the connection's RemoteEndPoint.
            if (options.ProxyProtocol)
            {
                var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<ProxyProtocolMiddleware>();
                var proxy = new ProxyProtocolOptions([.. options.TrustedProxies], options.ProxyHeaderTimeout);
                listen.Use(next => new ProxyProtocolMiddleware(next, proxy, services.GetRequiredService<ShoutMetrics>(),
                    services.GetRequiredService<TimeProvider>(), logger).OnConnectedAsync);
            }

            // Then admission: a denied or surplus client costs no handshake and no handler.
            var transport = endpoint.Transport switch
            {
                ShoutTransport.Tls => TransportKind.Tls,
                ShoutTransport.Unix => TransportKind.Unix,
                _ => TransportKind.Tcp,
            };
            listen.Use(StreamAdmission.Middleware(services.GetRequiredService<SessionAdmission>(), transport,
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StreamAdmission))));
            if (endpoint.Transport == ShoutTransport.Tls)
            {
                // Kestrel's TLS middleware runs the handshake (with its timeout) before the handler
                // sees the connection; handshake failures are logged at Debug, never Error. No HTTP
                // protocols: otherwise it would accept an ALPN offer of h2 for a stream that is not HTTP.
                listen.Protocols = HttpProtocols.None;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    // Read per handshake, so a reloaded certificate serves the next client and open ones keep theirs.
                    ServerCertificateSelector = (_, _) => live.Current.Certificate,
                    HandshakeTimeout = options.Tls.HandshakeTimeout,
                });
                listen.UseTlsIdleBuffers();
                listen.UseTlsCloseNotify();
            }

            var handler = services.GetRequiredService<ShoutConnectionHandler>();
            listen.Run(connection => handler.OnConnectedAsync(connection, transport));
            bound(listen);
        }

        if (passed is not null)
        {
            // ListenSockets hands Kestrel the adopted socket for this descriptor.
            kestrel.ListenHandle((ulong)passed.Fd, Configure);
            return;
        }

        switch (endpoint.Transport)
        {
            case ShoutTransport.Tcp or ShoutTransport.Tls:
                // [::] (or *) is dual-stack: Kestrel clears IPV6_V6ONLY for the IPv6 any address.
                kestrel.Listen(ListenAddress.Resolve(endpoint), endpoint.Port, Configure);
                break;
            case ShoutTransport.Unix:
                kestrel.ListenUnixSocket(endpoint.Path, Configure);
                break;
            default:
                throw new NotSupportedException($"{endpoint}: the {endpoint.Transport} transport cannot be served");
        }
    }

    /// <summary>The input pipe's limit: 64 KiB, or room for a whole line plus one read in line mode.</summary>
    internal static long ReadBufferLimit(ShoutServerOptions options) =>
        options.Mode is ShoutMode.Line or ShoutMode.Room ? options.MaxLineLength + (64L * 1024) : 64L * 1024;

    private static ShoutEndpoint Bound(ShoutEndpoint requested, ListenOptions listen) => listen.EndPoint switch
    {
        IPEndPoint ip => ShoutEndpoint.For(requested.Transport, ip),
        _ => requested,
    };

    /// <summary>Starts listening on every endpoint; <see cref="IOException"/> when one cannot be bound.</summary>
    /// <remarks>
    /// A Unix socket file left by a server that crashed is removed first (a connect to it is
    /// refused); one that a running server answers on is an <see cref="IOException"/>.
    /// </remarks>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var logger = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Shout.Server");
        // A passed Unix socket's file belongs to whoever passed it: neither claimed nor removed here.
        var unixPaths = _requested.Take(_passedFrom).Where(e => e.Transport == ShoutTransport.Unix).Select(e => e.Path).ToList();
        foreach (var path in unixPaths)
        {
            if (await UnixSocketFiles.ClaimAsync(path, UnixProbeTimeout, cancellationToken))
            {
                TransportLog.StaleUnixSocketRemoved(logger, path);
            }
        }

        // Bound before the host starts, so a UDP port in use is one IOException, like a TCP one.
        _app.Services.GetService<UdpShoutService>()?.Bind();
        DescriptorStart.Prepare(_options, _app.Services.GetRequiredService<SessionRules>(), logger);
        await _app.StartAsync(cancellationToken);
        foreach (var path in unixPaths)
        {
            UnixSocketFiles.SetMode(path, _options.UnixSocketMode);
        }

        // Removed once every listener is closed, so a clean stop leaves no file behind.
        _app.Lifetime.ApplicationStopped.Register(() => unixPaths.ForEach(UnixSocketFiles.Remove));

        if (TlsCertificate is { } certificate)
        {
            TransportLog.TlsCertificate(logger, certificate.Subject,
                _options.Tls.CertificatePath is { Length: > 0 } path ? path : "generated at start",
                ServerCertificates.Fingerprint(certificate));
        }

        var listening = Endpoints.Select(e => e.ToString()).ToList();
        if (WebAddress is { } webAddress)
        {
            listening.Add(webAddress.ToString());
        }

        foreach (var endpoint in listening)
        {
            ServerLog.Listening(logger, endpoint);
        }

        var tcpPorts = Endpoints.Where(e => e.Transport is ShoutTransport.Tcp or ShoutTransport.Tls).Select(e => e.Port);
        _app.Services.GetRequiredService<BoundAddresses>().Set(listening, tcpPorts, WebAddress?.Port);
        var metrics = Metrics;
        _app.Lifetime.ApplicationStopping.Register(() => ServerLog.Draining(logger, metrics.ActiveConnections));
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops accepting, drains connections within the shutdown timeout, then aborts the rest.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        var certificate = TlsCertificate;
        await _app.DisposeAsync();
        certificate?.Dispose();
    }
}
