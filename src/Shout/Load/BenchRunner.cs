using System.Diagnostics;
using HdrHistogram;

namespace Shout.Load;

/// <summary>
/// Runs <c>shout bench</c>: opens the connections, drives the chosen mode, and measures replies,
/// latency, errors, its own CPU and (for a local server) the server's CPU and memory.
/// </summary>
internal static class BenchRunner
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);

    /// <summary>How long workers get to finish what is in flight after the stop before they are reset.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs the load. Cancelling ends the measurement early and reports what was measured. When a
    /// first connection cannot be opened, its failure is thrown (<see cref="System.Net.Sockets.SocketException"/>,
    /// <see cref="TimeoutException"/>, <see cref="IOException"/>, <see cref="System.Security.Authentication.AuthenticationException"/>).
    /// </summary>
    /// <param name="options">What to run.</param>
    /// <param name="progress">Called about twice a second from the runner's loop (not a worker).</param>
    /// <param name="cancellationToken">Stops the run early.</param>
    public static async Task<BenchResult> RunAsync(BenchOptions options, Action<BenchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var dialer = await LoadDialers.CreateAsync(options.Endpoint, options.Client, options.Size, cancellationToken);

        // One connection first: a server that cannot be reached (refused, no such socket, TLS or
        // upgrade refused) is one error thrown to the caller, not a run full of failed connects.
        await (await dialer.ConnectAsync(cancellationToken)).DisposeAsync();
        var serverPid = options.ServerPid ?? ServerProcess.FindListener(options.Endpoint);
        var run = new LoadRun(options);
        var ticker = new Ticker(run, progress);
        return options.Mode == BenchMode.Hold
            ? await HoldAsync(run, dialer, serverPid, ticker, cancellationToken)
            : await LoadAsync(run, dialer, serverPid, ticker, cancellationToken);
    }

    private static async Task<BenchResult> LoadAsync(LoadRun run, ILoadDialer dialer, int? serverPid, Ticker ticker,
        CancellationToken cancellationToken)
    {
        var options = run.Options;
        var payload = new BenchPayload(options.Size, options.Mode == BenchMode.PingPong ? options.Pipeline : 1, options.Expect);
        var channels = await ConnectAllAsync(run, dialer, options.Connections, cancellationToken);
        var workers = channels.Select(c => options.Mode == BenchMode.PingPong
            ? new PingPongWorker(run, c, payload).RunAsync()
            : new StreamWorker(run, c, payload).RunAsync()).ToArray();

        await ticker.RunAsync("warmup", options.Warmup, cancellationToken);
        run.StartMeasuring();
        run.Latency.Reset();
        var start = Snapshot.Take(run, serverPid);
        await ticker.RunAsync("measure", options.Duration, cancellationToken);
        var end = Snapshot.Take(run, serverPid);
        run.Stop();
        await FinishAsync(run, workers);
        return Result(run, start, end, serverPid, memory: null);
    }

    private static async Task<BenchResult> HoldAsync(LoadRun run, ILoadDialer dialer, int? serverPid, Ticker ticker,
        CancellationToken cancellationToken)
    {
        var options = run.Options;
        var payload = new BenchPayload(options.Size, 1, options.Expect);
        // Warm the server up with a few short connections first, so the baseline already holds its
        // one-time costs (code compiled for the connection path, pools) and the growth measured
        // afterwards is what each held connection costs. Done the same for every server.
        // Three rounds with pauses, because a runtime with tiered compilation recompiles hot code
        // in steps (about 30 calls, then a background compile) and that must not count as growth.
        for (var round = 0; round < 3; round++)
        {
            await WarmUpHoldAsync(run, dialer, payload, Math.Min(options.Connections / 10, 300), cancellationToken);
        }

        var counters = run.NewCounters();
        run.StartMeasuring();
        var baseline = serverPid is { } pid ? ServerProcess.ResidentBytes(pid) : null;
        var start = Snapshot.Take(run, serverPid);

        // Ramp: launch connects in small batches at the requested rate.
        var workers = new List<Task>(options.Connections);
        var ramp = Stopwatch.StartNew();
        while (workers.Count < options.Connections && !cancellationToken.IsCancellationRequested)
        {
            var due = (int)Math.Min(options.Connections, (ramp.Elapsed.TotalSeconds * options.Rate) + 1);
            while (workers.Count < due)
            {
                workers.Add(new HoldWorker(run, dialer, payload, counters).RunAsync());
            }

            ticker.Report("ramp", ramp.Elapsed, TimeSpan.FromSeconds(options.Connections / (double)options.Rate));
            await Task.Delay(10, CancellationToken.None);
        }

        var rampSeconds = ramp.Elapsed.TotalSeconds;

        // Every connection answered (or failed) before memory is read.
        var answered = Stopwatch.StartNew();
        while (Volatile.Read(ref counters.Messages) + run.Errors.Values.Sum() < workers.Count && answered.Elapsed < options.ConnectTimeout * 2
            && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None);
        }

        await ticker.RunAsync("hold", options.Duration, cancellationToken);
        var held = serverPid is { } p ? ServerProcess.ResidentBytes(p) : null;
        var open = run.OpenConnections;
        var end = Snapshot.Take(run, serverPid);
        run.Stop();
        await FinishAsync(run, [.. workers]);
        var memory = baseline is { } b && held is { } h ? new BenchServerMemory(b, h, open) : null;
        return Result(run, start, end, serverPid, memory) with { RampSeconds = rampSeconds };
    }

    private static async Task WarmUpHoldAsync(LoadRun run, ILoadDialer dialer, BenchPayload payload, int count, CancellationToken cancellationToken)
    {
        var warmup = new LoadRun(run.Options);
        var workers = Enumerable.Range(0, count).Select(_ => new HoldWorker(warmup, dialer, payload, warmup.NewCounters()).RunAsync()).ToArray();
        var answered = Stopwatch.StartNew();
        while (warmup.Totals().Messages + warmup.Errors.Values.Sum() < count && answered.Elapsed < run.Options.ConnectTimeout
            && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        warmup.Stop();
        await FinishAsync(warmup, workers);
        await Task.Delay(300, CancellationToken.None); // let the server finish closing them and compile
    }

    private static async Task<List<LoadChannel>> ConnectAllAsync(LoadRun run, ILoadDialer dialer, int count, CancellationToken cancellationToken)
    {
        var channels = new List<LoadChannel>(count);
        const int Parallel = 64; // enough to fill the accept queue without overflowing it
        for (var first = 0; first < count; first += Parallel)
        {
            var batch = Enumerable.Range(first, Math.Min(Parallel, count - first)).Select(async _ =>
            {
                try
                {
                    return await dialer.ConnectAsync(cancellationToken);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException
                    or System.Security.Authentication.AuthenticationException)
                {
                    run.Error(e);
                    return null;
                }
            });
            foreach (var channel in await Task.WhenAll(batch))
            {
                if (channel is not null)
                {
                    run.Opened(channel);
                    channels.Add(channel);
                }
            }
        }

        return channels;
    }

    private static async Task FinishAsync(LoadRun run, Task[] workers)
    {
        var all = Task.WhenAll(workers);
        if (await Task.WhenAny(all, Task.Delay(Grace)) != all)
        {
            run.Error("no_answer_after_stop");
            run.AbortAll();
            await all;
        }
    }

    private static BenchResult Result(LoadRun run, Snapshot start, Snapshot end, int? serverPid, BenchServerMemory? memory)
    {
        var options = run.Options;
        var histogram = run.Latency.GetIntervalHistogram();
        var messages = end.Messages - start.Messages;
        var seconds = (end.At - start.At).TotalSeconds;
        return new BenchResult
        {
            Mode = options.Mode.ToString().ToLowerInvariant(),
            Address = options.Endpoint.ToString(),
            Expect = options.Expect.ToString().ToLowerInvariant(),
            Connections = options.Connections,
            ConnectionsOpened = run.OpenedTotal,
            Pipeline = options.Pipeline,
            Size = options.Size,
            Seconds = seconds,
            Messages = messages,
            Bytes = end.Bytes - start.Bytes,
            Latency = histogram.TotalCount == 0 ? null : Summarize(histogram),
            // Over the same interval as the messages: a mismatch count beside a message count of another span reads as more wrong replies than replies.
            Mismatches = end.Mismatches - start.Mismatches,
            FirstMismatch = run.FirstMismatch,
            Errors = run.Errors,
            ServerPid = serverPid,
            ClientCpuMicrosecondsPerMessage = messages > 0 ? (end.ClientCpu - start.ClientCpu).TotalMicroseconds / messages : null,
            ServerCpuMicrosecondsPerMessage = messages > 0 && end.ServerCpu is { } e && start.ServerCpu is { } s
                ? (e - s).TotalMicroseconds / messages : null,
            ServerMemory = memory,
        };
    }

    private static BenchLatency Summarize(HistogramBase h)
    {
        static double Us(long nanoseconds) => nanoseconds / 1000.0;
        return new BenchLatency(Us(h.GetValueAtPercentile(50)), Us(h.GetValueAtPercentile(90)), Us(h.GetValueAtPercentile(99)),
            Us(h.GetValueAtPercentile(99.9)), Us(h.GetMaxValue()), h.GetMean() / 1000.0);
    }

    private sealed record Snapshot(TimeSpan At, long Messages, long Bytes, long Mismatches, TimeSpan ClientCpu, TimeSpan? ServerCpu)
    {
        private static readonly Stopwatch Clock = Stopwatch.StartNew();

        public static Snapshot Take(LoadRun run, int? serverPid)
        {
            var (messages, bytes, mismatches) = run.Totals();
            using var self = Process.GetCurrentProcess();
            return new Snapshot(Clock.Elapsed, messages, bytes, mismatches, self.TotalProcessorTime,
                serverPid is { } pid ? ServerProcess.CpuTime(pid) : null);
        }
    }

    /// <summary>Waits out a phase while reporting progress.</summary>
    private sealed class Ticker(LoadRun run, Action<BenchProgress>? progress)
    {
        private long _lastMessages;
        private long _lastBytes;
        private long _lastAt = Stopwatch.GetTimestamp();

        public async Task RunAsync(string phase, TimeSpan length, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            while (!cancellationToken.IsCancellationRequested)
            {
                // Read the clock once: checking it in the loop condition and again here let the wait
                // go negative when the phase ended in between (Task.Delay throws on that).
                var wait = length - clock.Elapsed;
                if (wait <= TimeSpan.Zero)
                {
                    break;
                }

                try
                {
                    await Task.Delay(wait < Tick ? wait : Tick, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                Report(phase, clock.Elapsed, length);
            }
        }

        public void Report(string phase, TimeSpan elapsed, TimeSpan length)
        {
            if (progress is null)
            {
                return;
            }

            var (messages, bytes, mismatches) = run.Totals();
            var now = Stopwatch.GetTimestamp();
            var seconds = Math.Max(Stopwatch.GetElapsedTime(_lastAt, now).TotalSeconds, 1e-6);
            progress(new BenchProgress(phase, elapsed, length, messages, (messages - _lastMessages) / seconds,
                (bytes - _lastBytes) / seconds / 1e6, run.OpenConnections, mismatches, run.Errors.Values.Sum()));
            (_lastMessages, _lastBytes, _lastAt) = (messages, bytes, now);
        }
    }
}
