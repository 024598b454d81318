using System.Net;
using Microsoft.Extensions.Logging;

namespace Shout.Toxics;

/// <summary>What <c>shout proxy</c> runs: the proxies and, unless turned off, toxiproxy's API over them.</summary>
internal sealed class ToxicProxyServer : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;

    private ToxicProxyServer(ProxyCollection proxies, ToxiproxyApi? api, ILoggerFactory loggers)
    {
        Proxies = proxies;
        Api = api;
        _loggers = loggers;
    }

    public ProxyCollection Proxies { get; }

    public ToxiproxyApi? Api { get; }

    /// <param name="api">Where the API listens; null for none.</param>
    /// <param name="seed">A fixed seed for toxicity, jitter and slice sizes (tests); null for random.</param>
    /// <param name="logging">Where the log goes.</param>
    /// <param name="cancellationToken">Stops a slow start.</param>
    /// <param name="page">A page for browsers on the API's port, with its own browser check (see <see cref="ToxiproxyApi.StartAsync"/>); null for none.</param>
    public static async Task<ToxicProxyServer> StartAsync(IPEndPoint? api, int? seed, Action<ILoggingBuilder> logging, CancellationToken cancellationToken,
        Action<Microsoft.AspNetCore.Builder.WebApplication>? page = null)
    {
        var loggers = LoggerFactory.Create(logging);
        var log = loggers.CreateLogger("Shout.Toxics");
        var proxies = new ProxyCollection(new ToxicRandom(seed), log);
        ToxiproxyApi? started = null;
        if (api is not null)
        {
            started = await ToxiproxyApi.StartAsync(proxies, api, logging, page, cancellationToken).ConfigureAwait(false);
            ToxicProxyLog.ApiListening(log, started.Address);
        }

        return new ToxicProxyServer(proxies, started, loggers);
    }

    public async ValueTask DisposeAsync()
    {
        if (Api is not null)
        {
            await Api.DisposeAsync().ConfigureAwait(false);
        }

        Proxies.StopAll();
        _loggers.Dispose();
    }
}
