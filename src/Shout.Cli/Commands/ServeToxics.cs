using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.Toxics;
using Shout.Transports.ProxyProtocol;
using Shout.Transports.Unix;
using Shout.Transports;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>serve --toxic</c>: toxics in front of the server's own stream listeners. Each tcp, tls and
/// unix listener moves to an internal one (loopback port 0, or a socket file in a private 0700
/// directory), and a <see cref="ToxicProxy"/> with the toxics listens on the address the user gave,
/// forwarding there. The proxy opens each forwarded connection with a PROXY v2 header naming the
/// client, and the internal listeners expect it from loopback only, so the server's limits, access
/// lists and logs still see the real client. TLS is passed through (the server terminates it, as
/// without toxics); udp listeners and the web endpoint are served directly (docs/proxy.md says why).
/// </summary>
internal sealed class ServeToxics : IAsyncDisposable
{
    private static readonly IPNetwork Loopback = new(IPAddress.Loopback, 32);

    private readonly IReadOnlyList<ToxicSpec> _toxics;
    // Index: the listener's place in the server's list, which is also its place in ShoutServer.Endpoints.
    private readonly List<(int Index, ShoutEndpoint Public, ShoutEndpoint Internal)> _moved = [];
    private readonly DirectoryInfo? _unixDirectory;
    private readonly List<ToxicProxy> _proxies = [];
    private readonly List<string?> _fronts = []; // ToxicFronts files, for shout states

    private ServeToxics(IReadOnlyList<ToxicSpec> toxics, IReadOnlyList<ShoutEndpoint> listen)
    {
        _toxics = toxics;
        for (var i = 0; i < listen.Count; i++)
        {
            var endpoint = listen[i];
            switch (endpoint.Transport)
            {
                case ShoutTransport.Tcp or ShoutTransport.Tls:
                    _moved.Add((i, endpoint, ShoutEndpoint.For(endpoint.Transport, new IPEndPoint(IPAddress.Loopback, 0))));
                    break;
                case ShoutTransport.Unix:
                    // 0700: only this user reaches the internal socket, whose peers are trusted to send a PROXY header.
                    _unixDirectory ??= Directory.CreateTempSubdirectory("shout-toxic-");
                    _moved.Add((i, endpoint, ShoutEndpoint.Parse($"unix://{Path.Combine(_unixDirectory.FullName, $"{_moved.Count}.sock")}")));
                    break;
            }
        }
    }

    /// <summary>The text parser of <c>--toxic</c> (flag, <c>SHOUT_TOXIC</c>, config <c>Shout:Toxic</c>).</summary>
    public static (ToxicSpec?, string?) Parse(string text) =>
        ToxicFlag.TryParse(text, out var toxic, out var error)
            ? ToxicTypes.PerDatagram(toxic!.Type) ? (null, $"'{text}': {toxic.Type} acts on datagrams; serve's toxics act on its tcp, tls and unix listeners (for udp: shout proxy -l udp://…)") : (toxic, null)
            : (null, error);

    /// <summary>
    /// With toxics, moves <paramref name="run"/>'s stream listeners behind them and returns the plan;
    /// null without toxics or when <paramref name="errors"/> got the reason they cannot apply.
    /// </summary>
    public static ServeToxics? Plan(ServeRun run, List<string> errors)
    {
        if (run.Toxics.Count == 0)
        {
            return null;
        }

        var names = run.Toxics.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (names is not null)
        {
            errors.Add($"--toxic: two toxics are named '{names.Key}'; give one name=…");
            return null;
        }

        if (run.Options.ProxyProtocol)
        {
            // The toxics' proxy speaks PROXY to the server itself; a load balancer's header would have to be checked and relayed.
            errors.Add("--toxic cannot be combined with --proxy-protocol");
            return null;
        }

        var listen = run.Options.ListenOrDefault();
        if (!listen.Any(e => e.Transport is ShoutTransport.Tcp or ShoutTransport.Tls or ShoutTransport.Unix))
        {
            errors.Add("--toxic acts on tcp, tls and unix listeners; give one with --listen (for udp: shout proxy -l udp://…)");
            return null;
        }

        var plan = new ServeToxics(run.Toxics, listen);
        plan.Rewrite(run.Options);
        return plan;
    }

    /// <summary>Points <paramref name="options"/> at the internal listeners (at start, and again for each reload's fresh reading).</summary>
    public void Rewrite(ShoutServerOptions options)
    {
        var listen = options.ListenOrDefault();
        options.Listen.Clear();
        foreach (var endpoint in listen)
        {
            options.Listen.Add(_moved.FirstOrDefault(m => m.Public == endpoint) is { Internal: { } inside } ? inside : endpoint);
        }

        options.ProxyProtocol = true;
        options.TrustedProxies.Add(Loopback);
    }

    /// <summary>
    /// Starts a proxy on each public address, to the internal endpoint the server bound; returns a
    /// line per proxy. A public address that cannot be bound is an <see cref="IOException"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> StartAsync(ShoutServer server, UnixFileMode unixMode, CancellationToken cancellationToken)
    {
        var bound = server.Endpoints;
        var log = server.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Shout.Toxics");
        var random = new ToxicRandom(null);
        var collection = new ProxyCollection(random, log);
        var lines = new List<string>();
        foreach (var (index, outside, _) in _moved)
        {
            var upstream = bound[index];
            var listen = new ProxyAddress(outside.Transport == ShoutTransport.Unix ? outside
                : ShoutEndpoint.ForTcp(ListenAddress.Resolve(outside).ToString(), outside.Port));
            if (listen.IsUnix)
            {
                // A file left by a server that crashed is removed; one a running server answers on is refused below.
                await UnixSocketFiles.ClaimAsync(listen.Endpoint.Path, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }

            var to = new ProxyAddress(upstream.Transport == ShoutTransport.Unix ? upstream : ShoutEndpoint.ForTcp(upstream.Host, upstream.Port));
            var proxy = new ToxicProxy(ProxyName(outside.Transport, collection), listen, to, random, log)
            {
                Preamble = Header,
                // At every bind, so a front disabled and enabled again through the web port keeps --unix-mode.
                Bound = bound => { if (bound.IsUnix) { UnixSocketFiles.SetMode(bound.Endpoint.Path, unixMode); } },
            };
            foreach (var toxic in _toxics)
            {
                proxy.Toxics.TryAdd(toxic);
            }

            try
            {
                proxy.Start();
            }
            catch (SocketException e)
            {
                proxy.Dispose();
                throw new IOException($"{outside}: {e.Message}", e);
            }

            _proxies.Add(proxy);
            collection.Adopt(proxy);
            if (!listen.IsUnix)
            {
                _fronts.Add(ToxicFronts.Register(proxy.Listen.Endpoint.Port, upstream.Port));
            }

            var shown = outside.Transport == ShoutTransport.Unix ? outside
                : ShoutEndpoint.For(outside.Transport, new IPEndPoint(IPAddress.Parse(proxy.Listen.Endpoint.Host), proxy.Listen.Endpoint.Port));
            lines.Add($"shout: {shown} through {string.Join(", ", _toxics.Select(t => t.Name))} (served on {upstream})");
        }

        // The web port's /toxiproxy (the page's Toxics panel) drives these proxies from now on.
        var web = server.Services.GetService<WebToxics>();
        web?.Attach(collection);
        server.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping.Register(() =>
        {
            web?.Stop();
            StopAccepting();
        });
        return lines;
    }

    /// <summary>
    /// The proxy's name in the API: the transport (<c>tcp</c>, <c>tls</c>, <c>unix</c>), then <c>-2</c>,
    /// <c>-3</c>… for more of the same kind, so it goes in a URL path as it is (an address would not).
    /// </summary>
    private static string ProxyName(ShoutTransport transport, ProxyCollection taken)
    {
        var kind = transport.ToString().ToLowerInvariant();
        var names = taken.All.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var name = kind;
        for (var n = 2; names.Contains(name); n++)
        {
            name = $"{kind}-{n.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        }

        return name;
    }

    /// <summary>At the drain: no new connections (refused, as the server's own listener refuses them), open ones go on.</summary>
    public void StopAccepting()
    {
        foreach (var proxy in _proxies)
        {
            proxy.StopAccepting();
        }
    }

    /// <summary>
    /// After the server's drain: each proxy delivers what it still holds of the server's replies
    /// and FIN (up to <paramref name="bound"/>), closes those connections with a FIN and resets the
    /// rest; before the server, whose log they write to, is disposed.
    /// </summary>
    public async Task StopAsync(TimeSpan bound)
    {
        await Task.WhenAll(_proxies.Select(p => p.StopGracefullyAsync(bound))).ConfigureAwait(false);
        Stop();
    }

    /// <summary>Stops every proxy (resetting what is still open).</summary>
    public void Stop()
    {
        foreach (var proxy in _proxies)
        {
            proxy.Dispose();
        }

        _proxies.Clear();
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        _fronts.ForEach(ToxicFronts.Unregister);
        _fronts.Clear();

        try
        {
            _unixDirectory?.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A socket file the server still holds: the temporary directory is left behind.
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The PROXY v2 header naming the client: its address on IP, LOCAL (the connection's own) on a Unix socket.</summary>
    private static byte[] Header(Socket client) =>
        client.RemoteEndPoint is IPEndPoint source && client.LocalEndPoint is IPEndPoint destination
            ? ProxyHeaderWriter.V2(source, destination)
            : ProxyHeaderWriter.V2Local();
}
