using System.Net.WebSockets;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// One WebSocket session's protocol (the tutorial's echo, or a room member), chosen when the server
/// is composed. <see cref="WebSocketShoutService"/> admits the upgrade, opens the session, runs the
/// protocol and closes the session with the reason it returns: no protocol records its own open or
/// close, and the service knows no mode.
/// </summary>
internal interface IWebSocketProtocol
{
    /// <summary>Serves <paramref name="socket"/> until the session ends; returns why, and what failed if a failure ended it.</summary>
    /// <param name="session">The session opened for the socket.</param>
    /// <param name="socket">The accepted WebSocket.</param>
    /// <param name="settings">The session's settings, as they were when it opened.</param>
    /// <param name="frames">The upgraded connection's frame-size guard, if the transport has one.</param>
    /// <param name="aborted">The HTTP connection went away.</param>
    Task<SessionEnd> RunAsync(Session session, WebSocket socket, SessionSettings settings, Frames.FrameLimitStream? frames,
        CancellationToken aborted);
}

/// <summary>How a session ended: the one reason it closes with, and the failure to record if one ended it.</summary>
internal readonly record struct SessionEnd(CloseReason Reason, string? Failure = null);
