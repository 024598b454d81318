using Microsoft.Extensions.Logging;

namespace Shout.Server;

internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Debug, "{ConnectionId} {Transport} accepted from {Remote}")]
    public static partial void Accepted(ILogger logger, string connectionId, string transport, string remote);

    [LoggerMessage(2, LogLevel.Debug, "{ConnectionId} peer closed its side (FIN); answering what is left")]
    public static partial void PeerHalfClosed(ILogger logger, string connectionId);

    // One line per connection says everything about it: who, over what, why it ended, how much, how long.
    [LoggerMessage(3, LogLevel.Debug, "{ConnectionId} closed by {ClosedBy} ({Reason}): {BytesIn} bytes in, {BytesOut} bytes out, {DurationMs:F1} ms; {Transport} from {Remote}")]
    public static partial void Closed(ILogger logger, string connectionId, string closedBy, string reason, long bytesIn, long bytesOut, double durationMs,
        string transport, string remote);

    [LoggerMessage(4, LogLevel.Debug, "{ConnectionId} connection error: {Message}")]
    public static partial void ConnectionError(ILogger logger, string connectionId, string message);

    [LoggerMessage(6, LogLevel.Information, "Shout draining: no new connections; answering what {Active} open connections sent, then closing them")]
    public static partial void Draining(ILogger logger, long active);

    [LoggerMessage(5, LogLevel.Information, "Shout listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);
}
