using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Transports.Udp;

/// <summary>
/// One UDP source of a socket as a peer of the message seam: its session (null when refused), the
/// mode's protocol it is served by, and what the table keeps of it (last datagram, rate tokens).
/// Its answers are datagrams to its address, held to three times what it sent
/// (<see cref="AmplificationLimit"/>: its address is never confirmed by the transport) and cut to
/// what one datagram may carry (<see cref="UdpReplyRule"/>); a send the socket refuses is counted
/// back and logged, never thrown to the protocol. Nothing is allocated per datagram.
/// </summary>
internal sealed class UdpPeer(UdpPeers table, Socket socket, string name, SocketAddress address, Session? session, long now, int rate,
    ShoutMetrics metrics, ILogger logger) : IMessagePeer
{
    private int _ended;

    /// <summary>The source's session; null for a refused source, which is only remembered.</summary>
    public Session? Admitted { get; } = session;

    /// <summary>The source's address (the table's key).</summary>
    public SocketAddress Address { get; } = address;

    /// <summary>The mode's protocol for this source (null for a refused one).</summary>
    public IMessageProtocol? Protocol { get; set; }

    public long LastSeen { get; set; } = now;

    public double Tokens { get; set; } = rate;

    public long Refilled { get; set; } = now;

    public bool Limited { get; set; }

    public Session Session => Admitted!;

    public SocketAddress? UnconfirmedAddress => Address;

    public int MaxAnswer => UdpReplyRule.MaxPayload(Address);

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message)
    {
        await socket.SendToAsync(message, SocketFlags.None, Address, CancellationToken.None);
        Session.Sent(message.Length);
    }

    // Pooled: an answer that waits (a client reading slowly) would otherwise box this method's state each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask AnswerAsync(int received, ReadOnlyMemory<byte> answer, bool endOfMessage)
    {
        var session = Session;
        if (!AmplificationLimit.Allows(session.BytesIn + received, session.BytesOut, answer.Length))
        {
            metrics.DatagramWithheld();
            session.Answered(received, 0);
            return;
        }

        // Counted before the reply goes (taken back if it cannot): a client that has its answer finds it counted.
        session.Answered(received, answer.Length);
        try
        {
            // Not cancelled by stop: a reply under way is finished, like a stream reply on drain.
            await socket.SendToAsync(answer, SocketFlags.None, Address, CancellationToken.None);
        }
        catch (SocketException e)
        {
            session.Unsent(answer.Length);
            metrics.DatagramSocketError("send");
            UdpLog.SocketError(logger, name, "send", e.SocketErrorCode.ToString());
        }
    }

    public void AnswerCut(int received, int sent)
    {
        metrics.DatagramReplyTruncated();
        UdpLog.Truncated(logger, name, received, sent);
    }

    /// <summary>A member that could not keep up: the source is forgotten and its session ends.</summary>
    public void Kick() => _ = table.EndAsync(this, CloseReason.SlowMember);

    /// <summary>True the first time only: a source's session is ended once.</summary>
    public bool TryEnd() => Interlocked.Exchange(ref _ended, 1) == 0;
}
