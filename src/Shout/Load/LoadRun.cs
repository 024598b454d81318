using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using HdrHistogram;
using Shout.Text;

namespace Shout.Load;

/// <summary>Where a run is: warming up, measuring, or stopping (workers finish what is in flight).</summary>
internal enum LoadPhase
{
    Warmup,
    Measure,
    Stop,
}

/// <summary>One worker's running totals; written by its worker only, read by the progress loop.</summary>
internal sealed class WorkerCounters
{
    public long Messages;
    public long Bytes;
    public long Mismatches;
}

/// <summary>
/// State shared by every worker of one run: the phase, the latency recorder, errors by kind and the
/// first wrong reply. Thread-safe; the per-message path is one volatile read and one histogram record.
/// </summary>
internal sealed class LoadRun
{
    /// <summary>Latencies up to one minute, in nanoseconds, 3 significant digits.</summary>
    private const long MaxLatencyNanoseconds = 60_000_000_000;

    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<WorkerCounters> _counters = [];
    private readonly ConcurrentBag<LoadChannel> _channels = [];
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile LoadPhase _phase = LoadPhase.Warmup;
    private string? _firstMismatch;
    private long _open;
    private long _openedTotal;

    public LoadRun(BenchOptions options)
    {
        Options = options;
        Latency = HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(MaxLatencyNanoseconds)
            .WithPrecisionOf(3).WithThreadSafeWrites().WithThreadSafeReads().Create();
    }

    public BenchOptions Options { get; }

    public Recorder Latency { get; }

    public LoadPhase Phase => _phase;

    public bool Stopping => _phase == LoadPhase.Stop;

    /// <summary>Completes when the run stops (hold workers wait on it).</summary>
    public Task Stopped => _stopped.Task;

    public long OpenConnections => Interlocked.Read(ref _open);

    public long OpenedTotal => Interlocked.Read(ref _openedTotal);

    public string? FirstMismatch => Volatile.Read(ref _firstMismatch);

    public IReadOnlyDictionary<string, long> Errors => new SortedDictionary<string, long>(_errors, StringComparer.Ordinal);

    public void StartMeasuring() => _phase = LoadPhase.Measure;

    public void Stop()
    {
        _phase = LoadPhase.Stop;
        _stopped.TrySetResult();
    }

    public WorkerCounters NewCounters()
    {
        var counters = new WorkerCounters();
        _counters.Add(counters);
        return counters;
    }

    public void Opened(LoadChannel channel)
    {
        _channels.Add(channel);
        Interlocked.Increment(ref _open);
        Interlocked.Increment(ref _openedTotal);
    }

    public void Closed() => Interlocked.Decrement(ref _open);

    /// <summary>Resets every connection still open: the end of a run that a server stopped answering.</summary>
    public void AbortAll()
    {
        foreach (var channel in _channels)
        {
            channel.Abort();
        }
    }

    /// <summary>Records one reply's latency, from a <see cref="Stopwatch"/> timestamp difference.</summary>
    public void RecordLatency(long elapsedTicks)
    {
        if (_phase == LoadPhase.Measure)
        {
            var nanoseconds = (long)(elapsedTicks * (1e9 / Stopwatch.Frequency));
            Latency.RecordValue(Math.Clamp(nanoseconds, 1, MaxLatencyNanoseconds));
        }
    }

    /// <summary>Totals over every worker: messages, bytes received, wrong replies.</summary>
    public (long Messages, long Bytes, long Mismatches) Totals()
    {
        long messages = 0, bytes = 0, mismatches = 0;
        foreach (var c in _counters)
        {
            messages += Volatile.Read(ref c.Messages);
            bytes += Volatile.Read(ref c.Bytes);
            mismatches += Volatile.Read(ref c.Mismatches);
        }

        return (messages, bytes, mismatches);
    }

    public void Error(string kind) => _errors.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    public void Error(Exception error) => Error(KindOf(error));

    /// <summary>Keeps the first wrong reply, to show what the server answered.</summary>
    public void NoteMismatch(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> received)
    {
        if (Volatile.Read(ref _firstMismatch) is null)
        {
            var text = $"expected \"{Show(expected)}\", got \"{Show(received)}\"";
            Interlocked.CompareExchange(ref _firstMismatch, text, null);
        }
    }

    /// <summary>The first 40 bytes, controls shown escaped (<see cref="VisibleText"/>): a wrong reply is printed on the user's terminal.</summary>
    private static string Show(ReadOnlySpan<byte> bytes)
    {
        var shown = VisibleText.EscapeToString(bytes[..Math.Min(bytes.Length, 40)]);
        return bytes.Length > 40 ? shown + "…" : shown;
    }

    /// <summary>A short, stable name for an error, for the errors-by-kind table.</summary>
    public static string KindOf(Exception error)
    {
        var socket = error as SocketException ?? error.InnerException as SocketException;
        return socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connect_refused",
            SocketError.ConnectionReset => "reset",
            SocketError.ConnectionAborted or SocketError.OperationAborted or SocketError.Shutdown => "aborted",
            SocketError.TimedOut => "timeout",
            SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable => "out_of_sockets",
            SocketError.AddressNotAvailable => "address_not_available",
            null => error switch
            {
                TimeoutException => "connect_timeout",
                Shout.Client.WebSocketClosedException closed => $"ws_close_{(int)closed.Status}",
                ObjectDisposedException => "aborted",
                _ => error.GetType().Name,
            },
            var code => code.ToString()!.ToLowerInvariant(),
        };
    }
}
