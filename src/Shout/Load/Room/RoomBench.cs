using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HdrHistogram;
using Shout.Client;
using Shout.Endpoints;

namespace Shout.Load.Room;

/// <summary>
/// The room fan-out load: M members over R rooms and one or more instances, S of them sending
/// <c>S&lt;id&gt; &lt;seq&gt; &lt;timestamp&gt;</c> lines at a fixed rate; every member checks every line it
/// gets. Before measuring, each sender's probe (sequence 0) must have reached every other member
/// of its room (so a broker that registers connections late is not charged a loss). After the
/// senders stop, the run waits for what is owed, up to a drain limit; what never came is lost. The
/// rate is deliveries over the time from the first line sent to the last delivery received (not to
/// the end of a drain wait that nothing more came in), and the run reports the CPU time the client
/// and the server spent meanwhile, so a reader can tell which of the two saturated.
/// </summary>
internal static class RoomBench
{
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(10);

    /// <summary>Runs the load and returns what it measured.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="log">Progress lines (connecting, ready, sending), or null.</param>
    /// <param name="cancellationToken">Stops the senders early; the result still counts what was owed.</param>
    /// <param name="progress">Totals so far, about four times a second from the first line sent until the drain ends, or null.</param>
    public static async Task<RoomBenchResult> RunAsync(RoomBenchOptions options, Action<string>? log = null, Action<RoomBenchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var pid = options.ServerPid ?? ServerProcess.FindListener(options.Endpoints[0]);
        var baseline = pid is { } p0 ? ServerProcess.ResidentBytes(p0) : null;
        var totals = new RoomBenchTotals(options.Senders);
        using var stop = new CancellationTokenSource();
        var members = await ConnectAllAsync(options, totals, log, cancellationToken);
        try
        {
            var receiving = members.Select(m => Task.Run(() => m.ReceiveAsync(stop.Token), CancellationToken.None)).ToList();
            if (options.ShoutRooms && options.Rooms > 1)
            {
                await JoinRoomsAsync(members, cancellationToken);
            }

            var held = pid is { } p1 ? ServerProcess.ResidentBytes(p1) : null;
            var owedPerLine = OwedPerLine(options);
            var readyNeeded = Enumerable.Range(0, options.Senders).Sum(s => owedPerLine[s]);
            await WaitReadyAsync(members, options, totals, readyNeeded, log, cancellationToken);
            foreach (var member in members)
            {
                member.StartRecording();
            }

            log?.Invoke($"every member hears every sender; sending {options.Rate} lines/s from each of {options.Senders} for {options.Duration.TotalSeconds:0.#} s");

            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var serverCpu = pid is { } p2 ? ServerProcess.CpuTime(p2) : null;
            var started = Stopwatch.GetTimestamp();
            using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            sending.CancelAfter(options.Duration);
            using var reporting = new CancellationTokenSource();
            var reporter = progress is null ? Task.CompletedTask : ReportAsync(members, options.Senders, totals, started, progress, reporting.Token);
            var sent = await Task.WhenAll(members.Take(options.Senders).Select(m => SendAsync(m, options.Rate, totals, sending.Token)));
            var expected = sent.Select((count, s) => count * owedPerLine[s]).Sum();

            // Wait for what is owed, then count what never came.
            var deadline = Stopwatch.GetTimestamp() + (long)(DrainLimit.TotalSeconds * Stopwatch.Frequency);
            while (Owed(members, options, sent) > 0 && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(10, CancellationToken.None);
            }

            await reporting.CancelAsync();
            await reporter;

            var last = members.Max(m => m.LastDelivery);
            var seconds = (last > started ? Stopwatch.GetElapsedTime(started, last) : Stopwatch.GetElapsedTime(started)).TotalSeconds;
            var clientCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds;
            double? serverCpuSeconds = pid is { } p3 && serverCpu is { } s0 && ServerProcess.CpuTime(p3) is { } s1 ? (s1 - s0).TotalSeconds : null;
            var shortfall = Owed(members, options, sent);
            await stop.CancelAsync();
            foreach (var member in members)
            {
                member.Socket.Dispose();
            }

            await Task.WhenAll(receiving);
            var histogram = totals.Latency.Merged();

            return new RoomBenchResult(options.Members, options.Rooms, options.Senders, sent.Sum(), expected,
                members.Sum(m => m.Delivered), members.Sum(m => m.Lost) + shortfall,
                members.Sum(m => m.Duplicated), members.Sum(m => m.Reordered), seconds, Summarize(histogram),
                baseline is { } b && held is { } h ? new BenchServerMemory(b, h, options.Members) : null)
            {
                Malformed = members.Sum(m => m.Malformed),
                ClientCpuSeconds = clientCpuSeconds,
                ServerCpuSeconds = serverCpuSeconds,
            };
        }
        finally
        {
            foreach (var member in members)
            {
                member.Socket.Dispose();
            }
        }
    }

    /// <summary>Reports the totals every quarter second until cancelled, and once more then.</summary>
    private static async Task ReportAsync(IReadOnlyList<RoomBenchMember> members, int senders, RoomBenchTotals totals, long started,
        Action<RoomBenchProgress> progress, CancellationToken cancellationToken)
    {
        void Report()
        {
            var sent = 0L;
            for (var s = 0; s < senders; s++)
            {
                sent += totals.SentSoFar(s);
            }

            progress(new RoomBenchProgress(Stopwatch.GetElapsedTime(started).TotalSeconds, sent, members.Sum(m => m.Delivered)));
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                Report();
            }
        }
        catch (OperationCanceledException)
        {
        }

        Report();
    }

    /// <summary>For each sender: how many members get each of its lines (its room, less itself).</summary>
    private static long[] OwedPerLine(RoomBenchOptions options) =>
        [.. Enumerable.Range(0, options.Senders).Select(s => (long)Enumerable.Range(0, options.Members).Count(m => m != s && m % options.Rooms == s % options.Rooms))];

    /// <summary>Deliveries still owed: for every member, every sender of its room, lines sent but not yet received.</summary>
    private static long Owed(IReadOnlyList<RoomBenchMember> members, RoomBenchOptions options, long[] sent)
    {
        var owed = 0L;
        foreach (var member in members)
        {
            for (var s = 0; s < options.Senders; s++)
            {
                if (s != member.Index && s % options.Rooms == member.Room)
                {
                    owed += Math.Max(0, sent[s] - (member.Next(s) - 1));
                }
            }
        }

        return owed;
    }

    private static async Task<List<RoomBenchMember>> ConnectAllAsync(RoomBenchOptions options, RoomBenchTotals totals,
        Action<string>? log, CancellationToken cancellationToken)
    {
        var members = new RoomBenchMember[options.Members];
        // A plain broker may listen with a tiny backlog (ncat: 10), and a connect that overflows it can
        // look established here while the broker never accepts it: connect to one a few at a time.
        using var gate = new SemaphoreSlim(options.ShoutRooms ? 256 : 8);
        log?.Invoke($"connecting {options.Members} members over {options.Endpoints.Count} instance(s)");
        await Task.WhenAll(Enumerable.Range(0, options.Members).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var socket = await ConnectAsync(options.Endpoints[i % options.Endpoints.Count], options.Family, cancellationToken);
                members[i] = new RoomBenchMember(i, i % options.Rooms, socket, totals, options.Senders, options.ShoutRooms);
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. members];
    }

    private static async Task<Socket> ConnectAsync(ShoutEndpoint endpoint, AddressFamily? family, CancellationToken cancellationToken)
    {
        EndPoint target = endpoint.Transport == ShoutTransport.Unix
            ? new UnixDomainSocketEndPoint(endpoint.Path)
            : new IPEndPoint((await ShoutConnection.ResolveAsync(endpoint, family, cancellationToken))[0], endpoint.Port);
        var socket = new Socket(target.AddressFamily, SocketType.Stream, endpoint.Transport == ShoutTransport.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        if (endpoint.Transport == ShoutTransport.Tcp)
        {
            socket.NoDelay = true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(target, timeout.Token);
        return socket;
    }

    private static async Task JoinRoomsAsync(IReadOnlyList<RoomBenchMember> members, CancellationToken cancellationToken)
    {
        // The answers (OK room rN) are skipped by the receive loop; readiness below proves membership.
        await Task.WhenAll(members.Select(m => m.Socket.SendAsync(
            Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"/join r{m.Room}\n")), SocketFlags.None, cancellationToken).AsTask()));
    }

    private static async Task WaitReadyAsync(IReadOnlyList<RoomBenchMember> members, RoomBenchOptions options, RoomBenchTotals totals,
        long needed, Action<string>? log, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(ReadyLimit.TotalSeconds * Stopwatch.Frequency);
        while (Interlocked.Read(ref totals.Ready) < needed)
        {
            // A probe again every second: a broker may register a connection after its connect returns.
            await Task.WhenAll(members.Take(options.Senders).Select(m => m.Socket.SendAsync(Line(m.Index, 0), SocketFlags.None, cancellationToken).AsTask()));
            var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            while (Interlocked.Read(ref totals.Ready) < needed && Stopwatch.GetTimestamp() < until)
            {
                await Task.Delay(10, cancellationToken);
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"bench room: after {ReadyLimit.TotalSeconds:0} s only {Interlocked.Read(ref totals.Ready)} of {needed} member-sender pairs had heard each other");
            }

            log?.Invoke($"ready: {Interlocked.Read(ref totals.Ready)} of {needed} member-sender pairs");
        }
    }

    /// <summary>Sends at <paramref name="rate"/> lines/s until cancelled; returns how many lines it sent.</summary>
    private static async Task<long> SendAsync(RoomBenchMember member, int rate, RoomBenchTotals totals, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var sent = 0L;
        var batch = new List<byte>(4096);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var due = (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * rate);
                if (due <= sent)
                {
                    await Task.Delay(1, cancellationToken);
                    continue;
                }

                batch.Clear();
                for (var n = 0; n < 256 && sent < due; n++)
                {
                    batch.AddRange(Line(member.Index, ++sent));
                }

                totals.Sending(member.Index, sent);
                await member.Socket.SendAsync(batch.ToArray(), SocketFlags.None, CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }

        return sent;
    }

    private static byte[] Line(int sender, long sequence) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"S{sender} {sequence} {Stopwatch.GetTimestamp()}\n"));

    private static BenchLatency Summarize(HistogramBase h)
    {
        static double Us(long nanoseconds) => nanoseconds / 1000.0;
        return h.TotalCount == 0 ? new BenchLatency(0, 0, 0, 0, 0, 0)
            : new BenchLatency(Us(h.GetValueAtPercentile(50)), Us(h.GetValueAtPercentile(90)), Us(h.GetValueAtPercentile(99)),
                Us(h.GetValueAtPercentile(99.9)), Us(h.GetMaxValue()), h.GetMean() / 1000.0);
    }
}
