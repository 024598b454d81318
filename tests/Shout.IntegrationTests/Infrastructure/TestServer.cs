using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.Sessions;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>An in-process Shout server on loopback port 0 (or temp Unix paths), stopped on dispose.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(ShoutServer server) => Server = server;

    public ShoutServer Server { get; }

    public ShoutMetrics Metrics => Server.Metrics;

    /// <summary>The first bound endpoint.</summary>
    public ShoutEndpoint Endpoint => Server.Endpoints[0];

    public ShoutEndpoint EndpointOf(ShoutTransport transport) => Server.Endpoints.First(e => e.Transport == transport);

    /// <param name="configure">Changes to the default options.</param>
    /// <param name="listen">The endpoint when <paramref name="configure"/> adds none.</param>
    /// <param name="logs">Receives every log entry, Debug included, when given.</param>
    /// <param name="clock">The clock of every timeout (a <c>FakeTimeProvider</c> in timeout tests); the system clock if null.</param>
    public static async Task<TestServer> StartAsync(Action<ShoutServerOptions>? configure = null, string listen = "tcp://127.0.0.1:0",
        LogCapture? logs = null, TimeProvider? clock = null)
    {
        var options = new ShoutServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) };
        configure?.Invoke(options);
        if (options.Listen.Count == 0)
        {
            options.Listen.Add(ShoutEndpoint.Parse(listen));
        }

        var server = ShoutServer.Create(
            options,
            logging =>
            {
                logging.SetMinimumLevel(logs is null ? LogLevel.Warning : LogLevel.Debug);
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }
            },
            services => services.AddSingleton(clock ?? TimeProvider.System));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await server.StartAsync(timeout.Token);
        return new TestServer(server);
    }

    /// <summary>Waits until the server counts no open connection (each close is processed asynchronously).</summary>
    public Task WaitForNoConnectionsAsync(TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Metrics.ActiveConnections == 0, timeout ?? TimeSpan.FromSeconds(15),
            () => $"{Metrics.ActiveConnections} connections still open");

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Server.StopAsync(timeout.Token);
        await Server.DisposeAsync();
    }
}
