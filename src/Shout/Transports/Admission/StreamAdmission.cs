using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shout.Sessions;

namespace Shout.Transports.Admission;

/// <summary>
/// The session core's admission step as Kestrel connection middleware, in front of every stream
/// listener (before TLS, so a refused client costs no handshake). A denied client is closed before
/// anything is read; one over a limit is told why in one line, then closed (on TLS closed without
/// a byte: no plaintext before a handshake).
/// </summary>
internal static partial class StreamAdmission
{
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(SessionAdmission admission, TransportKind transport, ILogger logger) =>
        next => connection =>
        {
            var ticket = admission.TryAdmit(connection.ConnectionId, transport, PeerAddress.Of(connection.RemoteEndPoint),
                PeerAddress.Describe(connection.RemoteEndPoint), out var refusal);
            if (ticket is null)
            {
                // A TLS client expects a handshake: a plaintext line would be its first bytes from
                // the server, read as a malformed record. It is closed without a byte, as Kestrel does.
                return transport != TransportKind.Tls ? TellAsync(connection, refusal.StreamLine(), logger) : Task.CompletedTask;
            }

            connection.Features.Set(ticket);
            Task served;
            try
            {
                served = next(connection);
            }
            catch
            {
                ticket.Dispose();
                throw;
            }

            // The handler's session holds the slot and frees it as it records the close: on TCP and
            // Unix it takes it before the handler returns, and nothing here waits for the connection
            // (an idle one holds no state machine of this middleware). Otherwise (a TLS handshake
            // first, which may fail before any session) the slot is freed when the layers are done.
            return ticket.Held ? served : FreeAfterAsync(served, ticket);
        };

    private static async Task FreeAfterAsync(Task served, SessionAdmission.Ticket ticket)
    {
        using (ticket)
        {
            await served;
        }
    }

    private static async Task TellAsync(ConnectionContext connection, byte[] line, ILogger logger)
    {
        if (line.Length == 0)
        {
            return;
        }

        try
        {
            // One short line fits the socket's buffer, so this does not wait on the client.
            await connection.Transport.Output.WriteAsync(line);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            RefusalNotSent(logger, connection.ConnectionId, e.Message);
        }
    }

    [LoggerMessage(LogEvents.RefusalNotSent, LogLevel.Debug, "{SessionId} could not send the refusal line: {Message}", EventName = "RefusalNotSent")]
    private static partial void RefusalNotSent(ILogger logger, string sessionId, string message);
}
