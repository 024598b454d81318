using Microsoft.Extensions.Logging;

namespace Shout.Server;

internal static partial class ServerLog
{
    [LoggerMessage(LogEvents.Draining, LogLevel.Information, "Shout draining: no new connections; answering what {Active} open connections sent, then closing them", EventName = "Draining")]
    public static partial void Draining(ILogger logger, long active);

    [LoggerMessage(LogEvents.Listening, LogLevel.Information, "Shout listening on {Endpoint}", EventName = "Listening")]
    public static partial void Listening(ILogger logger, string endpoint);
}
