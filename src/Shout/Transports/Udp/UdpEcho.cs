using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.Logging;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Transports.Udp;

/// <summary>
/// The tutorial's echo on UDP: each datagram answered with one reply datagram to its sender
/// (<see cref="UdpReplyRule"/>: uppercased, cut to what one datagram may carry). A stream-mode
/// source never confirms its address, so every reply is held to 3× what it sent
/// (<see cref="AmplificationLimit"/>). The reply buffer is this socket's; nothing is allocated per datagram.
/// </summary>
internal sealed class UdpEcho(Socket socket, string name, ShoutMetrics metrics, ILogger logger) : IDatagramProtocol
{
    private readonly byte[] _reply = new byte[UdpReplyRule.ReplyBufferSize];

    public async ValueTask OnDatagramAsync(Session session, SocketAddress source, ReadOnlyMemory<byte> datagram)
    {
        var written = UdpReplyRule.Compose(datagram.Span, _reply, UdpReplyRule.MaxPayload(source), out var truncated);
        if (truncated)
        {
            metrics.DatagramReplyTruncated();
            UdpLog.Truncated(logger, name, datagram.Length, written);
        }

        if (Withheld(session, datagram.Length, written))
        {
            return;
        }

        // Counted before the reply goes (taken back if it cannot): a client that has its answer finds it counted.
        session.Answered(datagram.Length, written);
        try
        {
            // Not cancelled by stop: a reply under way is finished, like a stream reply on drain.
            await socket.SendToAsync(_reply.AsMemory(0, written), SocketFlags.None, source, CancellationToken.None);
        }
        catch (SocketException e)
        {
            session.Unsent(written);
            metrics.DatagramSocketError("send");
            UdpLog.SocketError(logger, name, "send", e.SocketErrorCode.ToString());
        }
    }

    public void Ended(Session session)
    {
        // Nothing is kept per source.
    }

    /// <summary>
    /// The anti-amplification rule. Uppercasing grows a datagram by half at most, so this never
    /// withholds a reply today; it keeps the rule true if a reply ever grows more (an error line, a notice).
    /// </summary>
    private bool Withheld(Session session, int received, int written)
    {
        if (AmplificationLimit.Allows(session.BytesIn + received, session.BytesOut, written))
        {
            return false;
        }

        metrics.DatagramWithheld();
        session.Answered(received, 0);
        return true;
    }

    /// <summary>Echo on every socket.</summary>
    internal sealed class Factory(ShoutMetrics metrics, ILogger logger) : IDatagramProtocolFactory
    {
        public bool Leases => false;

        public IDatagramProtocol For(Socket socket, string name, SessionSettings settings) => new UdpEcho(socket, name, metrics, logger);
    }
}
