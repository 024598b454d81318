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

    /// <summary>
    /// The peer reset or hung up without a close: an I/O error (or the WebSocket runtime's "closed
    /// prematurely"), anywhere in <paramref name="e"/>'s chain.
    /// </summary>
    public static bool HungUp(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is IOException or SocketException or WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The WebSocket runtime refused a frame (invalid UTF-8 in text: 1007; a malformed frame: 1002), sent
    /// its close frame and aborted: reported as Faulted, wrapped in a cancellation when the socket was
    /// aborted meanwhile. The runtime's own abort (a pong overdue) surfaces as "Aborted", an
    /// <see cref="OperationCanceledException"/> whose inner exceptions are Faulted too; that is no refusal.
    /// </summary>
    public static bool Refused(Exception e)
    {
        if (e is OperationCanceledException)
        {
            return false;
        }

        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is WebSocketException { WebSocketErrorCode: WebSocketError.Faulted })
            {
                return true;
            }
        }

        return false;
    }
}
