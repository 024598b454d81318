using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;

namespace Shout.Sessions;

/// <summary>How a session ended: the one reason it closes with, and the failure to record if one ended it.</summary>
internal readonly record struct SessionEnd(CloseReason Reason, string? Failure = null)
{
    /// <summary>
    /// The exceptions with which a session's transport ends under it, on every seam: the peer reset
    /// or hung up, the connection was aborted (a write timeout, a kick), a wait was cancelled by the
    /// stop. The owner of the session maps them to a reason; anything else is a defect and is not caught.
    /// </summary>
    public static bool Ends(Exception e) =>
        e is ConnectionResetException or ConnectionAbortedException or IOException or SocketException or WebSocketException
            or OperationCanceledException;
}
