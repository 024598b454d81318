using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Prometheus;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// Bridges this server's <c>Shout</c> meter into a Prometheus registry of its own (prometheus-net's
/// MeterAdapter), which <c>/metrics</c> serves in the text format. A registry per server, not the
/// process-wide default, so two servers in one process (tests) never mix their numbers.
/// </summary>
internal sealed class PrometheusExport(IMeterFactory meterFactory) : IHostedService, IDisposable
{
    // Connection lifetimes from a quick send (milliseconds) to a long chat (an hour), in seconds.
    private static readonly double[] DurationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

    private IDisposable? _adapter;

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,

            // The options' default factory writes to the process-wide registry, whatever Registry says.
            MetricFactory = Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = instrument =>
                instrument.Meter.Name == ShoutMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory),
            ResolveHistogramBuckets = _ => DurationBuckets,

            // Shout's label sets are few (transport × reason): keep series as long as prometheus-net allows (a day).
            MetricsExpireAfter = TimeSpan.FromDays(1),
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _adapter?.Dispose();
}
