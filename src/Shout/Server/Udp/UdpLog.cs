using Microsoft.Extensions.Logging;

namespace Shout.Server.Udp;

internal static partial class UdpLog
{
    [LoggerMessage(301, LogLevel.Debug, "udp {Endpoint}: {Operation} failed ({Error}); the loop goes on")]
    public static partial void SocketError(ILogger logger, string endpoint, string operation, string error);

    [LoggerMessage(302, LogLevel.Debug, "udp {Endpoint}: the reply to a {Bytes}-byte datagram was cut to {Sent} bytes (the datagram size limit)")]
    public static partial void Truncated(ILogger logger, string endpoint, int bytes, int sent);

    [LoggerMessage(303, LogLevel.Debug, "udp {Endpoint}: stopped after answering {Drained} queued datagrams")]
    public static partial void Drained(ILogger logger, string endpoint, int drained);

    [LoggerMessage(304, LogLevel.Error, "udp {Endpoint}: unexpected error in the receive loop; the loop goes on")]
    public static partial void Unexpected(ILogger logger, Exception exception, string endpoint);
}
