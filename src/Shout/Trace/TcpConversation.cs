namespace Shout.Trace;

/// <summary>
/// One TCP connection followed from its packets: each side's initial sequence number, how far it
/// has sent, its FIN, and the state the RFC 793 machine puts it in. Pure; fed in capture order.
/// </summary>
internal sealed class TcpConversation(int number, string client, string server, DateTimeOffset start, bool sawSyn)
{
    private readonly Side _client = new("client", 'x', sawSyn ? TcpStates.Closed : TcpStates.Established);
    private readonly Side _server = new("server", 'y', sawSyn ? TcpStates.Listen : TcpStates.Established);
    private DateTimeOffset? _synTime;
    private double? _handshakeRtt;
    private string? _closedFirst;
    private string? _resetBy;
    private int _retransmissions;
    private int _packets;
    private readonly DateTimeOffset _start = start;
    private DateTimeOffset _last = start;
    private bool _tls;

    public int Number { get; } = number;

    public bool Ended { get; private set; }

    public DateTimeOffset LastSeen => _last;

    public TracePacketLine Add(TracedPacket packet, bool fromClient)
    {
        var (sender, receiver) = fromClient ? (_client, _server) : (_server, _client);
        var flags = packet.Flags;
        var gap = _packets == 0 ? 0 : Math.Max(0, (packet.Time - _last).TotalMilliseconds);
        _packets++;
        _last = packet.Time;
        if (flags.HasFlag(TcpControlBits.Syn) || !sender.HasIsn)
        {
            // A SYN carries the initial number; a connection caught mid-way starts counting where it was seen.
            sender.Start(packet.Sequence, fromSyn: flags.HasFlag(TcpControlBits.Syn));
        }

        var hasAck = flags.HasFlag(TcpControlBits.Ack);
        if (hasAck && !receiver.HasIsn)
        {
            receiver.Start(packet.Acknowledgement, fromSyn: false);
        }

        var seq = packet.Sequence - sender.Isn;
        var ack = hasAck ? packet.Acknowledgement - receiver.Isn : 0u;
        var length = (uint)packet.PayloadLength + (flags.HasFlag(TcpControlBits.Syn) ? 1u : 0) + (flags.HasFlag(TcpControlBits.Fin) ? 1u : 0);
        var retransmission = length > 0 && sender.SentAny && seq + length <= sender.SentEnd;
        if (retransmission)
        {
            _retransmissions++;
        }
        else
        {
            sender.SentAny = true;
            sender.SentEnd = Math.Max(sender.SentEnd, seq + length);
            sender.Bytes += packet.PayloadLength;
        }

        string? senderState = null, receiverState = null;
        void Enter(Side side, string state, ref string? entered)
        {
            if (side.State != state)
            {
                side.State = state;
                entered = state;
            }
        }

        if (flags.HasFlag(TcpControlBits.Rst))
        {
            _resetBy ??= sender.Name;
            _closedFirst ??= sender.Name;
            Enter(sender, TcpStates.Closed, ref senderState);
            Enter(receiver, TcpStates.Closed, ref receiverState);
            Ended = true;
        }
        else
        {
            if (flags.HasFlag(TcpControlBits.Syn))
            {
                if (!hasAck)
                {
                    _synTime ??= packet.Time;
                    Enter(sender, TcpStates.SynSent, ref senderState);
                }
                else
                {
                    if (_synTime is { } syn && _handshakeRtt is null)
                    {
                        _handshakeRtt = (packet.Time - syn).TotalMilliseconds;
                    }

                    Enter(sender, TcpStates.SynReceived, ref senderState);
                    if (receiver.State == TcpStates.SynSent)
                    {
                        Enter(receiver, TcpStates.Established, ref receiverState);
                    }
                }
            }

            // What this ACK acknowledges of the receiver: its SYN, its FIN.
            if (hasAck)
            {
                if (receiver.State == TcpStates.SynReceived && ack >= 1)
                {
                    Enter(receiver, TcpStates.Established, ref receiverState);
                }

                if (receiver.FinEnd is { } finEnd && ack >= finEnd)
                {
                    var next = receiver.State switch
                    {
                        TcpStates.FinWait1 => TcpStates.FinWait2,
                        TcpStates.Closing => TcpStates.TimeWait,
                        TcpStates.LastAck => TcpStates.Closed,
                        _ => receiver.State,
                    };
                    Enter(receiver, next, ref receiverState);
                }
            }

            // The first FIN seen from a side closes it, even when it is a resend: a FIN the kernel
            // dropped (TCP memory pressure) is never captured, only its resend 200 ms later.
            if (flags.HasFlag(TcpControlBits.Fin) && sender.FinEnd is null)
            {
                _closedFirst ??= sender.Name;
                sender.FinEnd = seq + length;
                Enter(sender, sender.State == TcpStates.CloseWait ? TcpStates.LastAck : TcpStates.FinWait1, ref senderState);
                var next = receiver.State switch
                {
                    TcpStates.FinWait1 => TcpStates.Closing,
                    TcpStates.FinWait2 => TcpStates.TimeWait,
                    TcpStates.Established or TcpStates.SynReceived => TcpStates.CloseWait,
                    _ => receiver.State,
                };
                Enter(receiver, next, ref receiverState);
            }

            Ended = _client.State is TcpStates.Closed or TcpStates.TimeWait && _server.State is TcpStates.Closed or TcpStates.TimeWait
                && _client.FinEnd is not null && _server.FinEnd is not null;
        }

        var preview = packet.PayloadLength == 0 ? null : Preview(packet.Payload.Span);
        return new TracePacketLine(Number, packet.Time, client, server, sender.Name, FlagNames(flags),
            sender.Relative(seq), seq, hasAck ? receiver.Relative(ack) : null, hasAck ? ack : null, packet.PayloadLength, preview,
            fromClient ? senderState : receiverState, fromClient ? receiverState : senderState, retransmission,
            (packet.Time - _start).TotalMilliseconds, gap,
            ZeroWindow: packet.Window == 0 && hasAck && (flags & (TcpControlBits.Syn | TcpControlBits.Rst)) == 0);
    }

    public TraceSummary Summary() => new(Number, _last, client, server, _closedFirst, _resetBy,
        _client.State == TcpStates.TimeWait ? _client.Name : _server.State == TcpStates.TimeWait ? _server.Name : null,
        _handshakeRtt, _client.Bytes, _server.Bytes, _retransmissions, _packets, (_last - _start).TotalMilliseconds);

    /// <summary>SYN, SYN-ACK, ACK, PSH-ACK, FIN-ACK, RST, RST-ACK: the flags present, joined in this order.</summary>
    public static string FlagNames(TcpControlBits flags)
    {
        var names = new List<string>(3);
        foreach (var (flag, name) in FlagOrder)
        {
            if (flags.HasFlag(flag))
            {
                names.Add(name);
            }
        }

        return names.Count == 0 ? "(none)" : string.Join('-', names);
    }

    private static readonly (TcpControlBits Flag, string Name)[] FlagOrder =
        [(TcpControlBits.Syn, "SYN"), (TcpControlBits.Fin, "FIN"), (TcpControlBits.Rst, "RST"), (TcpControlBits.Psh, "PSH"), (TcpControlBits.Ack, "ACK")];

    private string Preview(ReadOnlySpan<byte> payload)
    {
        // Once a connection has spoken TLS its bytes are ciphertext: name the record, show nothing of it.
        if (PayloadPreview.TlsRecord(payload) is { } record)
        {
            _tls = true;
            return record;
        }

        return _tls ? "TLS (continued)" : PayloadPreview.Text(payload);
    }

    private sealed class Side(string name, char letter, string state)
    {
        public string Name { get; } = name;

        public string State { get; set; } = state;

        public bool HasIsn { get; private set; }

        public uint Isn { get; private set; }

        public bool SentAny { get; set; }

        /// <summary>Relative sequence number just past everything sent (SYN and FIN count one each).</summary>
        public uint SentEnd { get; set; }

        /// <summary>Relative number just past this side's FIN, once sent.</summary>
        public uint? FinEnd { get; set; }

        public long Bytes { get; set; }

        public void Start(uint sequence, bool fromSyn)
        {
            if (!HasIsn || fromSyn)
            {
                HasIsn = true;
                Isn = sequence;
            }
        }

        public string Relative(uint offset) => offset == 0 ? letter.ToString() : $"{letter}+{offset}";
    }
}

/// <summary>The TCP state names, as <c>ss</c> and the tutorial write them.</summary>
internal static class TcpStates
{
    /// <summary>No connection.</summary>
    public const string Closed = "CLOSED";

    /// <summary>The server waits for connections.</summary>
    public const string Listen = "LISTEN";

    /// <summary>The client sent its SYN.</summary>
    public const string SynSent = "SYN_SENT";

    /// <summary>The server answered the SYN with its own.</summary>
    public const string SynReceived = "SYN_RCVD";

    /// <summary>The handshake is done; data flows.</summary>
    public const string Established = "ESTABLISHED";

    /// <summary>This side sent its FIN first and waits for its ACK.</summary>
    public const string FinWait1 = "FIN_WAIT_1";

    /// <summary>This side's FIN is acknowledged (half-closed); it waits for the other's FIN.</summary>
    public const string FinWait2 = "FIN_WAIT_2";

    /// <summary>Both sent FIN before either was acknowledged.</summary>
    public const string Closing = "CLOSING";

    /// <summary>The other side closed; this one may still send.</summary>
    public const string CloseWait = "CLOSE_WAIT";

    /// <summary>This side closed second and waits for the last ACK.</summary>
    public const string LastAck = "LAST_ACK";

    /// <summary>The side that closed first waits 2MSL so that a lost last ACK can be repeated.</summary>
    public const string TimeWait = "TIME_WAIT";
}
