using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Prometheus;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// Bridges this server's <c>Shout</c> meter into a Prometheus registry of its own, which
/// <c>/metrics</c> serves in the text format, named by Prometheus conventions
/// (<see cref="PrometheusNames"/>: <c>shout_connections_accepted_total</c> typed counter,
/// <c>shout_connection_duration_seconds</c>), plus prometheus-net's <c>process_*</c> and
/// <c>dotnet_*</c> runtime metrics. A registry per server, not the process-wide default, so two
/// servers in one process (tests) never mix their numbers.
/// </summary>
/// <remarks>
/// prometheus-net's own MeterAdapter prefixes the meter name (<c>shout_shout_</c>), types counters
/// as gauges and puts .NET type names in HELP, so this is a small MeterListener of its own.
/// Observable instruments are read only when <c>/metrics</c> is collected.
/// </remarks>
internal sealed class PrometheusExport(IMeterFactory meterFactory) : IHostedService, IDisposable
{
    // Connection lifetimes from a quick send (milliseconds) to a long chat (an hour), in seconds.
    private static readonly double[] DurationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private MeterListener? _listener;

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        DotNetStats.Register(Registry);
        var factory = Metrics.WithCustomRegistry(Registry);
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ShoutMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                {
                    _families[instrument] = new Family(factory, instrument);
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
        Registry.AddBeforeCollectCallback(() => _listener?.RecordObservableInstruments());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener?.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_families.TryGetValue(instrument, out var family))
        {
            family.Record(value, tags);
        }
    }

    /// <summary>One instrument's Prometheus metric; its label names come from its first measurement.</summary>
    private sealed class Family(IMetricFactory factory, Instrument instrument)
    {
        private readonly Lock _gate = new();
        private string[]? _labels;
        private Collector? _collector;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var (collector, labels) = Create(tags);
            var values = new string[labels.Length];
            for (var i = 0; i < labels.Length; i++)
            {
                values[i] = "";
                foreach (var tag in tags)
                {
                    if (tag.Key == labels[i])
                    {
                        values[i] = tag.Value?.ToString() ?? "";
                    }
                }
            }

            switch (collector)
            {
                case Counter counter when instrument.IsObservable:
                    counter.WithLabels(values).IncTo(value);
                    break;
                case Counter counter:
                    counter.WithLabels(values).Inc(value);
                    break;
                case Histogram histogram:
                    histogram.WithLabels(values).Observe(value);
                    break;
                case Gauge gauge:
                    gauge.WithLabels(values).Set(value);
                    break;
            }
        }

        private (Collector Collector, string[] Labels) Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (_gate)
            {
                if (_collector is not null)
                {
                    return (_collector, _labels!);
                }

                var labels = new List<string>();
                foreach (var tag in tags)
                {
                    labels.Add(tag.Key);
                }

                _labels = [.. labels.Order(StringComparer.Ordinal)];
                var name = PrometheusNames.Name(instrument);
                var help = instrument.Description ?? instrument.Name;
                _collector = PrometheusNames.Type(instrument) switch
                {
                    "counter" => factory.CreateCounter(name, help, _labels),
                    "histogram" => factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = _labels, Buckets = DurationBuckets }),
                    _ => factory.CreateGauge(name, help, _labels),
                };
                return (_collector, _labels);
            }
        }
    }
}
