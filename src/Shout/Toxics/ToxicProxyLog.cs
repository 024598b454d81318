using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Shout.Toxics;

/// <summary>The proxy's log lines.</summary>
internal static partial class ToxicProxyLog
{
    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "proxy {Name} listening on {Listen}, forwarding to {Upstream}")]
    public static partial void Listening(ILogger logger, string name, ProxyAddress listen, ProxyAddress upstream);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "proxy {Name} stopped listening; its connections were reset")]
    public static partial void Stopped(ILogger logger, string name);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "proxy {Name}: upstream {Upstream} unreachable ({Reason}); the client's connection was reset")]
    public static partial void UpstreamDown(ILogger logger, string name, string upstream, string reason);

    [LoggerMessage(EventId = 2303, Level = LogLevel.Warning, Message = "proxy {Name}: accept failed ({Error}); still listening")]
    public static partial void AcceptFailed(ILogger logger, string name, SocketError error);

    [LoggerMessage(EventId = 2304, Level = LogLevel.Information, Message = "proxy API on {Address}")]
    public static partial void ApiListening(ILogger logger, string address);

    [LoggerMessage(EventId = 2310, Level = LogLevel.Warning, Message = "proxy {Name}: {Max} client sources at once; datagrams from new ones are dropped until one is idle")]
    public static partial void TooManyFlows(ILogger logger, string name, int max);

    [LoggerMessage(EventId = 2311, Level = LogLevel.Warning, Message = "proxy {Name}: upstream {Upstream} unusable ({Reason}); the datagram was dropped")]
    public static partial void UpstreamUnusable(ILogger logger, string name, string upstream, string reason);

    [LoggerMessage(EventId = 2320, Level = LogLevel.Warning, Message = "proxy {Name}: {Reason}; the client's WebSocket handshake was refused with {Status}")]
    public static partial void UpgradeRefused(ILogger logger, string name, string reason, int status);
}
