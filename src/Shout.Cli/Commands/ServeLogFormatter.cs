using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout serve</c>'s log lines for people: one line each, a time, a level and a short category
/// that says what logged (<c>[server]</c>, <c>[connection]</c>, <c>[websocket]</c>) instead of a .NET
/// class name and an event number (<c>Shout.Transports.Streams.ShoutConnectionHandler[3]</c>). Machines get
/// <c>--log-format json</c> (the JSON console formatter) instead.
/// </summary>
internal sealed class ServeLogFormatter() : ConsoleFormatter(Name)
{
    public new const string Name = "shout";

    private static readonly Dictionary<string, string> Categories = new(StringComparer.Ordinal)
    {
        ["Shout.Server"] = "server",
        ["Shout.Sessions.SessionLifecycle"] = "connection",
        ["Shout.Transports.Streams.ShoutConnectionHandler"] = "connection",
        ["Shout.Transports.WebSockets.WebSocketShoutService"] = "websocket",
        ["Shout.Transports.Udp.UdpShoutService"] = "udp",
        ["Shout.Transports.Admission.StreamAdmission"] = "admission",
        ["Shout.Transports.ProxyProtocol.ProxyProtocolMiddleware"] = "proxy",
    };

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (logEntry.Exception is { } exception)
        {
            message = $"{message}: {exception.Message}";
        }

        textWriter.Write(DateTime.Now.ToString("HH:mm:ss.fff ", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(" [");
        textWriter.Write(Category(logEntry.Category));
        textWriter.Write("] ");
        textWriter.Write(message.ReplaceLineEndings(" "));
        textWriter.Write('\n');
    }

    /// <summary>The short name of a logger category: a known one, else its last dotted part.</summary>
    public static string Category(string category) =>
        Categories.TryGetValue(category, out var name) ? name
        : category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) ? "kestrel"
        : category[(category.LastIndexOf('.') + 1)..].ToLowerInvariant();

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "    ",
    };
}
