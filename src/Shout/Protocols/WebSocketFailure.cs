using System.Net.Sockets;
using System.Net.WebSockets;

namespace Shout.Protocols;

/// <summary>What an exception out of a WebSocket says about how the session ended.</summary>
internal static class WebSocketFailure
{
    // A peer that resets or hangs up without a close frame shows as an I/O error (or the runtime's
    // "closed prematurely"). Every other abort that reaches here is the runtime's own, taken when a
    // pong was overdue: the protocols' own aborts are timeouts (Expired) and shutdown is checked first.
    public static bool PeerHungUp(Exception e)
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
}
