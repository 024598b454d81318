namespace Shout.Diagnostics;

/// <summary>
/// The Linux kernel's TCP states, with the numbers <c>/proc/net/tcp</c> prints in its <c>st</c>
/// column (include/net/tcp_states.h).
/// </summary>
internal enum TcpState
{
    /// <summary>Both sides may send: after the handshake, before either side closes.</summary>
    Established = 0x01,

    /// <summary>A client sent SYN and waits for SYN+ACK.</summary>
    SynSent = 0x02,

    /// <summary>A server answered a SYN and waits for the final ACK of the handshake.</summary>
    SynReceived = 0x03,

    /// <summary>This side closed first (sent FIN) and waits for its ACK.</summary>
    FinWait1 = 0x04,

    /// <summary>This side's FIN was acknowledged; it waits for the peer's FIN.</summary>
    FinWait2 = 0x05,

    /// <summary>This side closed first and has seen both FINs; it waits 2MSL (60 s on Linux) so late segments die.</summary>
    TimeWait = 0x06,

    /// <summary>Closed.</summary>
    Close = 0x07,

    /// <summary>The peer closed first (its FIN arrived); this side has not closed yet.</summary>
    CloseWait = 0x08,

    /// <summary>The peer closed first, then this side closed; waiting for the ACK of this side's FIN.</summary>
    LastAck = 0x09,

    /// <summary>A listening socket.</summary>
    Listen = 0x0A,

    /// <summary>Both sides closed at the same time.</summary>
    Closing = 0x0B,

    /// <summary>A request socket (a SYN answered, not yet accepted); Linux usually prints these as SYN_RECV.</summary>
    NewSynReceived = 0x0C,
}
