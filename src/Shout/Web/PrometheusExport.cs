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
/// Observable instruments are read only when <c>/metrics</c> is collected. A scrape is one consistent
/// snapshot: prometheus-net reads a histogram's count, sum and buckets one after another, so an
/// observation landing in between made the <c>+Inf</c> bucket differ from <c>_count</c> (seen while
/// hundreds of connections closed during a scrape); histogram observations made while a scrape runs
/// are held and applied right after it.
/// </remarks>
internal sealed class PrometheusExport(IMeterFactory meterFactory) : IHostedService, IDisposable
{
    // Connection lifetimes from a quick send (milliseconds) to a long chat (an hour), in seconds.
    private static readonly double[] DurationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private readonly ConcurrentQueue<(Histogram.Child Child, double Value)> _deferred = new();
    private readonly SemaphoreSlim _scrape = new(1, 1);
    private MeterListener? _listener;
    private int _scraping;
    private int _observing;

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
                    _families[instrument] = new Family(this, factory, instrument);
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

    public void Dispose()
    {
        _listener?.Dispose();
        _scrape.Dispose();
    }

    /// <summary>Serves <c>/metrics</c> in the Prometheus text format, one scrape at a time.</summary>
    public async Task ScrapeAsync(Microsoft.AspNetCore.Http.HttpContext context)
    {
        using var buffer = new MemoryStream();
        await _scrape.WaitAsync(context.RequestAborted);
        try
        {
            ApplyDeferred();

            // A full fence, then wait out the observations already past their check (a few instructions each).
            Interlocked.Exchange(ref _scraping, 1);
            SpinWait.SpinUntil(() => Volatile.Read(ref _observing) == 0);
            await Registry.CollectAndExportAsTextAsync(buffer, context.RequestAborted);
        }
        finally
        {
            Interlocked.Exchange(ref _scraping, 0);
            ApplyDeferred();
            _scrape.Release();
        }

        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    private void Observe(Histogram.Child child, double value)
    {
        Interlocked.Increment(ref _observing);
        if (Volatile.Read(ref _scraping) == 0)
        {
            child.Observe(value);
            Interlocked.Decrement(ref _observing);
            return;
        }

        Interlocked.Decrement(ref _observing);
        _deferred.Enqueue((child, value));
    }

    private void ApplyDeferred()
    {
        while (_deferred.TryDequeue(out var held))
        {
            held.Child.Observe(held.Value);
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_families.TryGetValue(instrument, out var family))
        {
            family.Record(value, tags);
        }
    }

    /// <summary>One instrument's Prometheus metric; its label names come from its first measurement.</summary>
    private sealed class Family(PrometheusExport export, IMetricFactory factory, Instrument instrument)
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
                    export.Observe(histogram.WithLabels(values), value);
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
