using Microsoft.Extensions.Logging;

namespace Shout.Server;

internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Debug, "{ConnectionId} {Transport} accepted from {Remote}")]
    public static partial void Accepted(ILogger logger, string connectionId, string transport, string remote);

    [LoggerMessage(2, LogLevel.Debug, "{ConnectionId} peer closed its side (FIN); answering what is left")]
    public static partial void PeerHalfClosed(ILogger logger, string connectionId);

    [LoggerMessage(3, LogLevel.Debug, "{ConnectionId} closed by {ClosedBy} ({Reason}): {BytesIn} bytes in, {BytesOut} bytes out, {DurationMs:F1} ms")]
    public static partial void Closed(ILogger logger, string connectionId, string closedBy, string reason, long bytesIn, long bytesOut, double durationMs);

    [LoggerMessage(4, LogLevel.Debug, "{ConnectionId} connection error: {Message}")]
    public static partial void ConnectionError(ILogger logger, string connectionId, string message);

    [LoggerMessage(6, LogLevel.Information, "Shout draining: no new connections; answering what {Active} open connections sent, then closing them")]
    public static partial void Draining(ILogger logger, long active);

    [LoggerMessage(5, LogLevel.Information, "Shout listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);
}
