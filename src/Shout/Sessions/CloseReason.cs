namespace Shout.Sessions;

/// <summary>Why a connection ended; every connection records exactly one, in logs and metrics.</summary>
public enum CloseReason
{
    /// <summary>The client half-closed (FIN) and every reply was written.</summary>
    ClientClosed,

    /// <summary>The client sent <c>quit</c> (line mode).</summary>
    Quit,

    /// <summary>The server drained on shutdown.</summary>
    ServerDrain,

    /// <summary>Nothing arrived within the idle timeout.</summary>
    IdleTimeout,

    /// <summary>A line stayed unfinished past the line timeout.</summary>
    LineTimeout,

    /// <summary>The client stopped reading and a write did not finish within the write timeout.</summary>
    WriteTimeout,

    /// <summary>Over a connection limit.</summary>
    Limit,

    /// <summary>Refused by the access lists.</summary>
    Denied,

    /// <summary>The connection was reset or aborted by the peer.</summary>
    Reset,

    /// <summary>The client broke the protocol (e.g. a line too long, invalid UTF-8 in a WebSocket text message).</summary>
    ProtocolError,

    /// <summary>A WebSocket peer stopped answering keep-alive pings.</summary>
    KeepAliveTimeout,

    /// <summary>A WebSocket message was larger than the limit (closed with 1009).</summary>
    MessageTooBig,

    /// <summary>A room member whose queue stayed full for the write timeout (it does not read); room mode's kick policy.</summary>
    SlowMember,

    /// <summary>A UDP room member (or a source that never confirmed its address) sent nothing within the lease (<c>--udp-lease</c>).</summary>
    LeaseExpired,
}
