using System.Text.Json;
using System.Text.Json.Serialization;
using Shout.Load;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout bench --json</c>: every number carries its unit in its name (<c>latency_p50_us</c>,
/// <c>measured_seconds</c>, <c>megabytes_per_second</c> in 10^6 bytes), and what the run could not
/// see is null, never 0 (server CPU of a server that is not local).
/// </summary>
internal static class BenchJson
{
    /// <summary>Shared by every bench document: snake_case names, and nulls written (what was not seen says so).</summary>
    internal static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string Serialize(BenchResult r, IReadOnlyList<BenchInterval> intervals) => JsonSerializer.Serialize(new Document
    {
        Mode = r.Mode,
        Address = r.Address,
        Expect = r.Expect,
        Interrupted = r.Interrupted,
        Connections = r.Connections,
        ConnectionsOpened = r.ConnectionsOpened,
        Pipeline = r.Mode == "pingpong" ? r.Pipeline : null,
        SizeBytes = r.Size,
        MeasuredSeconds = r.Seconds,
        Messages = r.Messages,
        ReplyBytes = r.Bytes,
        MessagesPerSecond = r.MessagesPerSecond,
        MegabytesPerSecond = r.MegabytesPerSecond,
        Latency = r.Latency,
        ConnectSeconds = r.RampSeconds,
        ConnectsPerSecond = r.RampSeconds is > 0 ? r.ConnectionsOpened / r.RampSeconds : null,
        Mismatches = r.Mismatches,
        FirstMismatch = r.FirstMismatch,
        Errors = r.Errors,
        ServerPid = r.ServerPid,
        ClientCpuUsPerMessage = r.Mode == "hold" ? null : r.ClientCpuMicrosecondsPerMessage,
        ServerCpuUsPerMessage = r.Mode == "hold" ? null : r.ServerCpuMicrosecondsPerMessage,
        ServerMemory = r.ServerMemory,
        ServerMemoryPerConnectionBytes = r.ServerMemory?.BytesPerConnection,
        ConnectionsHeld = r.ServerMemory?.Connections,
        Intervals = intervals.Count > 0 ? intervals : null,
    }, Options);

    private sealed class Document : BenchDocument
    {
        public required string Expect { get; init; }
        public int Connections { get; init; }
        public long ConnectionsOpened { get; init; }
        public int? Pipeline { get; init; }
        public int SizeBytes { get; init; }
        public long Messages { get; init; }
        public long ReplyBytes { get; init; }
        public double MessagesPerSecond { get; init; }
        public double MegabytesPerSecond { get; init; }
        public double? ConnectSeconds { get; init; }
        public double? ConnectsPerSecond { get; init; }
        public long Mismatches { get; init; }
        public string? FirstMismatch { get; init; }
        public required IReadOnlyDictionary<string, long> Errors { get; init; }
        public int? ServerPid { get; init; }
        public double? ClientCpuUsPerMessage { get; init; }
        public double? ServerCpuUsPerMessage { get; init; }
        public double? ServerMemoryPerConnectionBytes { get; init; }
        public long? ConnectionsHeld { get; init; }
        public IReadOnlyList<BenchInterval>? Intervals { get; init; }
    }
}

/// <summary>
/// What every <c>bench --json</c> document (pingpong, stream, hold, room) has, under the same names:
/// the run, its latency percentiles in microseconds and the server's memory, null when not measured.
/// </summary>
internal abstract class BenchDocument
{
    [JsonPropertyOrder(-4)]
    public required string Mode { get; init; }

    [JsonPropertyOrder(-3)]
    public required string Address { get; init; }

    [JsonPropertyOrder(-2)]
    public bool Interrupted { get; init; }

    [JsonPropertyOrder(-1)]
    public double MeasuredSeconds { get; init; }

    public double? LatencyP50Us { get; private init; }

    public double? LatencyP90Us { get; private init; }

    public double? LatencyP99Us { get; private init; }

    public double? LatencyP999Us { get; private init; }

    public double? LatencyMaxUs { get; private init; }

    public double? LatencyMeanUs { get; private init; }

    public long? ServerMemoryBaselineBytes { get; private init; }

    public long? ServerMemoryHeldBytes { get; private init; }

    /// <summary>Sets the latency fields (all null when nothing was measured).</summary>
    [JsonIgnore]
    public BenchLatency? Latency
    {
        init
        {
            LatencyP50Us = value?.P50;
            LatencyP90Us = value?.P90;
            LatencyP99Us = value?.P99;
            LatencyP999Us = value?.P999;
            LatencyMaxUs = value?.Max;
            LatencyMeanUs = value?.Mean;
        }
    }

    /// <summary>Sets the server memory fields (null when the server is not local).</summary>
    [JsonIgnore]
    public BenchServerMemory? ServerMemory
    {
        init
        {
            ServerMemoryBaselineBytes = value?.BaselineBytes;
            ServerMemoryHeldBytes = value?.HeldBytes;
        }
    }
}

/// <summary>One <c>--interval</c> report: what was measured between two moments of the run.</summary>
internal sealed record BenchInterval(double StartSeconds, double EndSeconds, long Messages, double MessagesPerSecond,
    double MegabytesPerSecond, long OpenConnections, long Errors);
