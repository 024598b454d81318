using Microsoft.Extensions.Logging;

namespace Shout.Transports.Udp;

internal static partial class UdpLog
{
    [LoggerMessage(LogEvents.UdpSocketError, LogLevel.Debug, "udp {Endpoint}: {Operation} failed ({Error}); the loop goes on", EventName = "UdpSocketError")]
    public static partial void SocketError(ILogger logger, string endpoint, string operation, string error);

    [LoggerMessage(LogEvents.UdpReplyTruncated, LogLevel.Debug, "udp {Endpoint}: the reply to a {Bytes}-byte datagram was cut to {Sent} bytes (the datagram size limit)", EventName = "UdpReplyTruncated")]
    public static partial void Truncated(ILogger logger, string endpoint, int bytes, int sent);

    [LoggerMessage(LogEvents.UdpDrained, LogLevel.Debug, "udp {Endpoint}: stopped after answering {Drained} queued datagrams", EventName = "UdpDrained")]
    public static partial void Drained(ILogger logger, string endpoint, int drained);

    [LoggerMessage(LogEvents.UdpUnexpected, LogLevel.Error, "udp {Endpoint}: unexpected error in the receive loop; the loop goes on", EventName = "UdpUnexpected")]
    public static partial void Unexpected(ILogger logger, Exception exception, string endpoint);

    [LoggerMessage(LogEvents.UdpRateLimited, LogLevel.Debug, "udp {Endpoint}: {Remote} is over its rate of {Rate} datagrams/s; dropping until it slows down", EventName = "UdpRateLimited")]
    public static partial void RateLimited(ILogger logger, string endpoint, string remote, int rate);
}
