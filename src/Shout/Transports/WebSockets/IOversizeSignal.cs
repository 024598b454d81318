namespace Shout.Transports.WebSockets;

/// <summary>
/// Tells a WebSocket session that the peer declared a message over the size limit, at the frame's
/// header, before the WebSocket has read it: the session closes with 1009 at once instead of waiting
/// for a payload that may never come. The upgraded stream (<see cref="FrameLimitStream"/>) implements it.
/// </summary>
internal interface IOversizeSignal
{
    /// <summary>Calls <paramref name="callback"/> when (or, if it already happened, now that) a message is declared over the limit.</summary>
    void OnExceeded(Action callback);
}
