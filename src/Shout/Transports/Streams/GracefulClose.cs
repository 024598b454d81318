using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Shout.Sessions;
using Shout.Transports.Tls;

namespace Shout.Transports.Streams;

/// <summary>
/// Closing a TCP connection from the server side without losing replies. When the server closes a
/// socket that still has unread input (a client that keeps sending during a drain, after
/// <c>quit</c> or an over-long line), Linux answers with RST and throws away every reply still in
/// the server's send queue: the row 8 test measured ~40 KB lost per run before this. So, before
/// Kestrel closes: wait until the peer's kernel has acknowledged every byte written (TCP_INFO
/// <c>tcpi_bytes_acked</c>), send FIN (half-close), then read and discard until the peer's FIN or
/// the linger bound, so the close finds nothing unread. TLS gets the same after its close_notify; as
/// its bytes on the wire are more than the plaintext counted, it also waits for the socket's send
/// queue to be empty and acknowledged (TCP_INFO <c>tcpi_unacked</c>, <c>tcpi_notsent_bytes</c>),
/// seen twice in a row so that a record still on its way from TLS to the socket is not missed.
/// Unix sockets need none of it: their replies are in the peer's queue as soon as they are written.
/// </summary>
internal static class GracefulClose
{
    /// <summary>How long to keep reading (and discarding) after our FIN for the peer's FIN.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    private const int SolTcp = 6;
    private const int TcpInfo = 11;
    private const int UnackedOffset = 24;
    private const int BytesAckedOffset = 120;
    private const int NotSentOffset = 144;

    /// <summary><c>tcpi_state</c> values in which the peer can still acknowledge data.</summary>
    private const byte Established = 1;
    private const byte CloseWait = 8;

    /// <summary>True for the ends where the server closes first and the peer may still be sending.</summary>
    public static bool Applies(CloseReason reason, TransportKind transport) =>
        transport is TransportKind.Tcp or TransportKind.Tls && OperatingSystem.IsLinux()
        && reason is CloseReason.ServerDrain or CloseReason.Quit or CloseReason.ProtocolError
            or CloseReason.IdleTimeout or CloseReason.LineTimeout;

    /// <summary>
    /// The server-first close of a stream session: TLS sends close_notify right after the last reply,
    /// so the client reads a complete stream; then both get <see cref="RunAsync"/>: delivered, FIN,
    /// the rest of the client's input read and dropped. Bounded by the write timeout (or the linger).
    /// </summary>
    public static async Task CloseAsync(ConnectionContext connection, PipeReader input, long bytesWritten, TransportKind transport,
        TimeSpan writeTimeout, TimeProvider clock)
    {
        if (transport == TransportKind.Tls)
        {
            await TlsCloseNotify.SendAsync(connection);
        }

        await RunAsync(connection, input, bytesWritten, SessionSettings.IsOn(writeTimeout) ? writeTimeout : Linger, clock);
    }

    /// <param name="connection">The connection, whose socket is reached through <see cref="IConnectionSocketFeature"/>.</param>
    /// <param name="input">Its input, read and discarded after the FIN.</param>
    /// <param name="bytesWritten">Every byte the handler wrote to the connection.</param>
    /// <param name="deliveryBound">Most time to wait for the peer to acknowledge the replies (it may not be reading).</param>
    /// <param name="clock">The clock of both bounds.</param>
    public static async Task RunAsync(ConnectionContext connection, PipeReader input, long bytesWritten, TimeSpan deliveryBound, TimeProvider clock)
    {
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { ProtocolType: ProtocolType.Tcp } socket)
        {
            return;
        }

        try
        {
            if (!await DeliveredAsync(socket, bytesWritten, deliveryBound, clock, connection.ConnectionClosed))
            {
                // The peer is not taking its replies, or is gone: half-closing now could cut the unsent ones short.
                return;
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException or OperationCanceledException)
        {
            // The peer reset the connection (Kestrel then disposes the socket): nothing left to deliver.
            return;
        }

        using var linger = new CancellationTokenSource(Linger, clock);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(linger.Token);
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The peer kept its side open past the linger: Kestrel's close ends it.
        }
        catch (Exception e) when (e is ConnectionResetException or ConnectionAbortedException or IOException)
        {
            // The peer reset after its replies were delivered: the close reason stays the server's.
        }
    }

    private static async Task<bool> DeliveredAsync(Socket socket, long bytesWritten, TimeSpan bound, TimeProvider clock,
        CancellationToken closed)
    {
        var started = clock.GetTimestamp();
        var poll = TimeSpan.FromMilliseconds(1);
        var settled = 0;
        while (true)
        {
            var (state, acked, queued) = Info(socket);
            settled = acked >= bytesWritten && !queued ? settled + 1 : 0;
            if (settled >= 2)
            {
                return true;
            }

            if (state is not (Established or CloseWait) || closed.IsCancellationRequested || clock.GetElapsedTime(started) >= bound)
            {
                return false;
            }

            // Acknowledgements take a round trip (microseconds on loopback); the poll backs off to 50 ms.
            await Task.Delay(poll, closed);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, TimeSpan.FromMilliseconds(50).Ticks));
        }
    }

    /// <summary>The connection's TCP state, the bytes the peer has acknowledged, and whether any sent or
    /// unsent byte still waits in the socket (TCP_INFO).</summary>
    private static (byte State, long Acked, bool Queued) Info(Socket socket)
    {
        Span<byte> info = stackalloc byte[256];
        var length = socket.GetRawSocketOption(SolTcp, TcpInfo, info);
        return length >= NotSentOffset + 4
            ? (info[0], BinaryPrimitives.ReadInt64LittleEndian(info[BytesAckedOffset..]),
                BinaryPrimitives.ReadUInt32LittleEndian(info[UnackedOffset..]) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(info[NotSentOffset..]) != 0)
            : (Established, long.MaxValue, false);
    }
}
