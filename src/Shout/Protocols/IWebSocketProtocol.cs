using System.Net.WebSockets;
using Shout.Sessions;
using Shout.Transports.WebSockets;

namespace Shout.Protocols;

/// <summary>
/// One WebSocket session's protocol (the tutorial's echo, or a room member), chosen when the server
/// is composed. <see cref="WebSocketShoutService"/> admits the upgrade, opens the session, runs the
/// protocol and closes the session with the reason it returns: no protocol records its own open or
/// close, and the service knows no mode.
/// </summary>
internal interface IWebSocketProtocol
{
    /// <summary>
    /// Why the protocol does not serve <paramref name="target"/>, the request path after <c>/ws/</c>
    /// (a room name in room mode; empty for <c>/ws</c> itself), or null when it does. Asked before
    /// the upgrade, so a refused target is an HTTP 404 with this reason, not a WebSocket.
    /// </summary>
    string? Refusal(string target);

    /// <summary>Serves <paramref name="socket"/> until the session ends; returns why, and what failed if a failure ended it.</summary>
    /// <param name="session">The session opened for the socket.</param>
    /// <param name="socket">The accepted WebSocket.</param>
    /// <param name="settings">The session's settings, as they were when it opened.</param>
    /// <param name="frames">The upgraded connection's frame-size guard, if the transport has one.</param>
    /// <param name="aborted">The HTTP connection went away.</param>
    /// <param name="target">The request path after <c>/ws/</c>, one <see cref="Refusal"/> accepted (empty for <c>/ws</c>).</param>
    Task<SessionEnd> RunAsync(Session session, WebSocket socket, SessionSettings settings, string target, IOversizeSignal? frames,
        CancellationToken aborted);
}

/// <summary>
/// Tells a protocol that the peer declared a message over the size limit, at the frame's header,
/// before the WebSocket has read it: the protocol closes with 1009 at once instead of waiting for a
/// payload that may never come. The WebSocket transport's upgraded stream implements it.
/// </summary>
internal interface IOversizeSignal
{
    /// <summary>Calls <paramref name="callback"/> when (or, if it already happened, now that) a message is declared over the limit.</summary>
    void OnExceeded(Action callback);
}
