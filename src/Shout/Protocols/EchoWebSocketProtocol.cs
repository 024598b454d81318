using System.Net.WebSockets;
using Shout.Sessions;
using Shout.Web;

namespace Shout.Protocols;

/// <summary>
/// The tutorial's echo on WebSocket, served by <see cref="MessageSession"/>: each text message
/// answered with its uppercase as text, each binary message as binary, with the core's idle and
/// write timeouts and the drain. Keep-alive pings abort dead peers; invalid UTF-8 in a text message
/// closes with 1007 and a malformed or oversized frame with 1002/1009.
/// </summary>
internal sealed class EchoWebSocketProtocol(int maxMessageBytes, ShoutMetrics metrics, DrainSignal drain, TimeProvider clock)
    : IWebSocketProtocol
{
    // How long a connection whose frame was refused stays open so the close frame reaches the client.
    private static readonly TimeSpan ProtocolErrorLinger = TimeSpan.FromSeconds(1);

    /// <summary>The echo has one address, <c>/ws</c>: a path under it names a room, and this server has none.</summary>
    public string? Refusal(string target) =>
        target.Length == 0 ? null : $"/ws/{target}: rooms are served in room mode only (serve --mode room); the echo is at /ws";

    public async Task<SessionEnd> RunAsync(Session session, WebSocket socket, SessionSettings settings, string target, IOversizeSignal? frames,
        CancellationToken aborted)
    {
        using var messages = new MessageSession(socket, session, settings, maxMessageBytes, metrics, clock, drain);
        frames?.OnExceeded(messages.RefuseOversized);
        try
        {
            return new(await messages.RunAsync());
        }
        catch (Exception e) when (SessionEnd.Ends(e))
        {
            if (Refused(e))
            {
                // The runtime refused a frame (invalid UTF-8 in text: 1007; a malformed frame: 1002), sent
                // its close frame and aborted. Ending the request at once would reset the connection and
                // could destroy that close frame in the client's buffer; linger briefly so it arrives.
                await LingerAsync(aborted);
                return new(CloseReason.ProtocolError, e.Message);
            }

            return new(messages.Expired ?? (messages.Draining ? CloseReason.ServerDrain
                : WebSocketFailure.PeerHungUp(e) ? CloseReason.Reset
                : CloseReason.KeepAliveTimeout), e.Message);
        }
    }

    private async Task LingerAsync(CancellationToken aborted)
    {
        try
        {
            await Task.Delay(ProtocolErrorLinger, clock, aborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away first: nothing left to protect.
        }
    }

    // The runtime reports a refused frame as Faulted, wrapped in a cancellation when the socket was
    // aborted meanwhile (the client hanging up right after reading the close frame).
    private static bool Refused(Exception e)
    {
        // The runtime's own abort (a pong overdue) surfaces as "Aborted", an OperationCanceledException
        // whose inner exceptions are Faulted too; over TLS it comes that way, so it is no refusal.
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
