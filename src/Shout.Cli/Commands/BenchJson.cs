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
    private static readonly JsonSerializerOptions Options = new()
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
        LatencyP50Us = r.Latency?.P50,
        LatencyP90Us = r.Latency?.P90,
        LatencyP99Us = r.Latency?.P99,
        LatencyP999Us = r.Latency?.P999,
        LatencyMaxUs = r.Latency?.Max,
        LatencyMeanUs = r.Latency?.Mean,
        ConnectSeconds = r.RampSeconds,
        ConnectsPerSecond = r.RampSeconds is > 0 ? r.ConnectionsOpened / r.RampSeconds : null,
        Mismatches = r.Mismatches,
        FirstMismatch = r.FirstMismatch,
        Errors = r.Errors,
        ServerPid = r.ServerPid,
        ClientCpuUsPerMessage = r.Mode == "hold" ? null : r.ClientCpuMicrosecondsPerMessage,
        ServerCpuUsPerMessage = r.Mode == "hold" ? null : r.ServerCpuMicrosecondsPerMessage,
        ServerMemoryBaselineBytes = r.ServerMemory?.BaselineBytes,
        ServerMemoryHeldBytes = r.ServerMemory?.HeldBytes,
        ServerMemoryPerConnectionBytes = r.ServerMemory?.BytesPerConnection,
        ConnectionsHeld = r.ServerMemory?.Connections,
        Intervals = intervals.Count > 0 ? intervals : null,
    }, Options);

    private sealed class Document
    {
        public required string Mode { get; init; }
        public required string Address { get; init; }
        public required string Expect { get; init; }
        public bool Interrupted { get; init; }
        public int Connections { get; init; }
        public long ConnectionsOpened { get; init; }
        public int? Pipeline { get; init; }
        public int SizeBytes { get; init; }
        public double MeasuredSeconds { get; init; }
        public long Messages { get; init; }
        public long ReplyBytes { get; init; }
        public double MessagesPerSecond { get; init; }
        public double MegabytesPerSecond { get; init; }
        public double? LatencyP50Us { get; init; }
        public double? LatencyP90Us { get; init; }
        public double? LatencyP99Us { get; init; }
        public double? LatencyP999Us { get; init; }
        public double? LatencyMaxUs { get; init; }
        public double? LatencyMeanUs { get; init; }
        public double? ConnectSeconds { get; init; }
        public double? ConnectsPerSecond { get; init; }
        public long Mismatches { get; init; }
        public string? FirstMismatch { get; init; }
        public required IReadOnlyDictionary<string, long> Errors { get; init; }
        public int? ServerPid { get; init; }
        public double? ClientCpuUsPerMessage { get; init; }
        public double? ServerCpuUsPerMessage { get; init; }
        public long? ServerMemoryBaselineBytes { get; init; }
        public long? ServerMemoryHeldBytes { get; init; }
        public double? ServerMemoryPerConnectionBytes { get; init; }
        public long? ConnectionsHeld { get; init; }
        public IReadOnlyList<BenchInterval>? Intervals { get; init; }
    }
}

/// <summary>One <c>--interval</c> report: what was measured between two moments of the run.</summary>
internal sealed record BenchInterval(double StartSeconds, double EndSeconds, long Messages, double MessagesPerSecond,
    double MegabytesPerSecond, long OpenConnections, long Errors);
