using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Transports.Udp;

/// <summary>
/// One UDP source of a socket as a peer of the one protocol contract: its session (null when
/// refused), the mode's protocol it is served by, and what the table keeps of it (last datagram,
/// rate tokens). Its answers are datagrams to its address, held to three times what it sent
/// (<see cref="AmplificationLimit"/>: its address is never confirmed by the transport) and cut at a
/// character boundary to what one datagram may carry (<see cref="UdpReplyRule"/>); a send the
/// socket refuses is counted back and logged, never thrown to the protocol. The answer buffer is
/// rented per datagram: nothing is allocated per datagram, and an idle source holds none.
/// </summary>
internal sealed class UdpPeer(UdpPeers table, Socket socket, string name, SocketAddress address, Session? session, long now, int rate,
    ShoutMetrics metrics, ILogger logger) : IPeer
{
    private readonly AnswerBuffer _answer = new();
    private int _ended;

    /// <summary>The source's session; null for a refused source, which is only remembered.</summary>
    public Session? Admitted { get; } = session;

    /// <summary>The source's address (the table's key).</summary>
    public SocketAddress Address { get; } = address;

    /// <summary>The mode's protocol for this source (null for a refused one).</summary>
    public IProtocol? Protocol { get; set; }

    public long LastSeen { get; set; } = now;

    public double Tokens { get; set; } = rate;

    public long Refilled { get; set; } = now;

    public bool Limited { get; set; }

    public Session Session => Admitted!;

    public PeerSeam Seam => PeerSeam.Message;

    public SocketAddress? UnconfirmedAddress => Address;

    public IBufferWriter<byte> Answer => _answer;

    public async ValueTask<bool> SendLinesAsync(ReadOnlyMemory<byte> lines, bool more)
    {
        // One datagram per line, without its terminator.
        while (!lines.IsEmpty)
        {
            var text = LineText.WithoutTerminator(LineText.Next(ref lines));
            await socket.SendToAsync(text, SocketFlags.None, Address, CancellationToken.None);
            Session.Sent(text.Length);
        }

        return true;
    }

    // Pooled: an answer that waits would otherwise box this method's state each time.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> AnswerAsync(long received, bool endOfMessage)
    {
        try
        {
            await SendAnswerAsync(received);
        }
        finally
        {
            _answer.Release();
        }

        return true;
    }

    private async ValueTask SendAnswerAsync(long received)
    {
        var answer = _answer.Written;
        var max = UdpReplyRule.MaxPayload(Address);
        if (answer.Length > max)
        {
            // The rest is not sent, and everything counts as read.
            answer = answer[..LineText.Cut(answer.Span, max)];
            metrics.DatagramReplyTruncated();
            UdpLog.Truncated(logger, name, (int)received, answer.Length);
        }

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

    /// <summary>A member that could not keep up: the source is forgotten and its session ends.</summary>
    public void Kick() => _ = table.EndAsync(this, CloseReason.SlowMember);

    /// <summary>True the first time only: a source's session is ended once.</summary>
    public bool TryEnd() => Interlocked.Exchange(ref _ended, 1) == 0;
}
