using Microsoft.Extensions.Logging;

namespace Shout.Sessions;

/// <summary>The session core's log lines (category <c>Shout.Sessions.SessionLifecycle</c>); ids from <see cref="LogEvents"/>.</summary>
internal static partial class SessionLog
{
    [LoggerMessage(LogEvents.SessionAccepted, LogLevel.Debug, "{SessionId} {Transport} accepted from {Remote}", EventName = "SessionAccepted")]
    public static partial void Accepted(ILogger logger, string sessionId, string transport, string remote);

    [LoggerMessage(LogEvents.SessionHalfClosed, LogLevel.Debug, "{SessionId} peer closed its side (FIN); answering what is left", EventName = "SessionHalfClosed")]
    public static partial void PeerHalfClosed(ILogger logger, string sessionId);

    [LoggerMessage(LogEvents.SessionClosed, LogLevel.Debug,
        "{SessionId} closed by {ClosedBy} ({Reason}): {BytesIn} bytes in, {BytesOut} bytes out, {Duration}; {Transport} from {Remote}",
        EventName = "SessionClosed")]
    public static partial void Closed(ILogger logger, string sessionId, string closedBy, string reason, long bytesIn, long bytesOut,
        string duration, string transport, string remote);

    [LoggerMessage(LogEvents.SessionError, LogLevel.Debug, "{SessionId} connection error: {Message}", EventName = "SessionError")]
    public static partial void Error(ILogger logger, string sessionId, string message);

    [LoggerMessage(LogEvents.SessionRefused, LogLevel.Debug, "{SessionId} {Transport} refused from {Remote}: {Why} (reason {Reason})", EventName = "SessionRefused")]
    public static partial void Refused(ILogger logger, string sessionId, string transport, string remote, string why, string reason);
}
