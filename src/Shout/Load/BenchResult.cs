namespace Shout.Load;

/// <summary>Reply latency percentiles, in microseconds.</summary>
internal sealed record BenchLatency(double P50, double P90, double P99, double P999, double Max, double Mean);

/// <summary>The local server's resident memory (VmRSS) before and while holding connections.</summary>
internal sealed record BenchServerMemory(long BaselineBytes, long HeldBytes, long Connections)
{
    /// <summary>Growth per held connection, in bytes.</summary>
    public double BytesPerConnection => Connections > 0 ? (HeldBytes - BaselineBytes) / (double)Connections : 0;
}

/// <summary>The outcome of a load run. Rates are over the measured interval only (after warmup).</summary>
internal sealed record BenchResult
{
    /// <summary>The settings that were run.</summary>
    public required string Mode { get; init; }

    /// <summary>The server's address.</summary>
    public required string Address { get; init; }

    /// <summary>What a correct reply was.</summary>
    public required string Expect { get; init; }

    /// <summary>Connections asked for.</summary>
    public int Connections { get; init; }

    /// <summary>Connections that opened.</summary>
    public long ConnectionsOpened { get; init; }

    /// <summary>Messages in flight per connection (pingpong).</summary>
    public int Pipeline { get; init; }

    /// <summary>Bytes per message or write.</summary>
    public int Size { get; init; }

    /// <summary>Seconds measured.</summary>
    public double Seconds { get; init; }

    /// <summary>Replies completed and checked while measuring.</summary>
    public long Messages { get; init; }

    /// <summary>Reply bytes received while measuring.</summary>
    public long Bytes { get; init; }

    /// <summary>Replies per second.</summary>
    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    /// <summary>Reply megabytes (10^6 bytes) per second.</summary>
    public double MegabytesPerSecond => Seconds > 0 ? Bytes / Seconds / 1e6 : 0;

    /// <summary>Reply latency (pingpong: send to reply; hold: connect to reply); null when nothing was timed.</summary>
    public BenchLatency? Latency { get; init; }

    /// <summary>Replies that differed from the expected answer, over the whole run. Anything but 0 is a failure.</summary>
    public long Mismatches { get; init; }

    /// <summary>The first wrong reply, for the report.</summary>
    public string? FirstMismatch { get; init; }

    /// <summary>Errors by kind (connect_refused, reset, closed_by_server, …) over the whole run.</summary>
    public IReadOnlyDictionary<string, long> Errors { get; init; } = new Dictionary<string, long>();

    /// <summary>The server process measured, when local.</summary>
    public int? ServerPid { get; init; }

    /// <summary>The load generator's own CPU time per reply, in microseconds.</summary>
    public double? ClientCpuMicrosecondsPerMessage { get; init; }

    /// <summary>The server's CPU time per reply, in microseconds (when local; 10 ms resolution).</summary>
    public double? ServerCpuMicrosecondsPerMessage { get; init; }

    /// <summary>Hold: the server's memory.</summary>
    public BenchServerMemory? ServerMemory { get; init; }

    /// <summary>True when every reply was right and nothing failed.</summary>
    public bool Clean => Mismatches == 0 && Errors.Count == 0;
}

/// <summary>A snapshot while running, for a live display.</summary>
/// <param name="Phase">warmup, measure, ramp, hold or stop.</param>
/// <param name="Elapsed">Time in the current phase.</param>
/// <param name="PhaseLength">How long the phase lasts, when known.</param>
/// <param name="Messages">Replies so far.</param>
/// <param name="MessagesPerSecond">Replies per second since the last snapshot.</param>
/// <param name="MegabytesPerSecond">Reply megabytes per second since the last snapshot.</param>
/// <param name="OpenConnections">Connections open now.</param>
/// <param name="Mismatches">Wrong replies so far.</param>
/// <param name="Errors">Errors so far.</param>
internal sealed record BenchProgress(string Phase, TimeSpan Elapsed, TimeSpan PhaseLength, long Messages, double MessagesPerSecond,
    double MegabytesPerSecond, long OpenConnections, long Mismatches, long Errors);
