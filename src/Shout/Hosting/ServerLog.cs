using Microsoft.Extensions.Logging;

namespace Shout.Hosting;

internal static partial class ServerLog
{
    [LoggerMessage(LogEvents.Draining, LogLevel.Information, "Shout draining: no new connections; answering what {Connections} sent, then closing them", EventName = "Draining")]
    private static partial void Draining(ILogger logger, string connections);

    /// <summary>"1 open connection", "2 open connections".</summary>
    public static void Draining(ILogger logger, long active) =>
        Draining(logger, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{active} open connection{(active == 1 ? "" : "s")}"));

    [LoggerMessage(LogEvents.Listening, LogLevel.Information, "Shout listening on {Endpoint}", EventName = "Listening")]
    public static partial void Listening(ILogger logger, string endpoint);
}
