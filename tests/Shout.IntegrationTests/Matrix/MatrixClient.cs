namespace Shout.IntegrationTests.Matrix;

/// <summary>How a client's connection ended, as the client saw it.</summary>
internal enum EndKind
{
    /// <summary>Still open when the wait ran out (UDP: no reply came).</summary>
    Open,

    /// <summary>The server closed gracefully: TCP FIN, TLS close_notify, or a WebSocket close frame.</summary>
    Closed,

    /// <summary>The connection was reset.</summary>
    Reset,
}

/// <summary>What arrived before the end, and the end itself.</summary>
/// <param name="Data">Every byte (stream) or the concatenated messages (WebSocket, UDP) received.</param>
/// <param name="Kind">How it ended.</param>
/// <param name="CloseCode">The WebSocket close status, when a close frame came.</param>
/// <param name="Detail">The close description or error text, for failure messages.</param>
internal sealed record Ending(byte[] Data, EndKind Kind, int? CloseCode, string Detail)
{
    public override string ToString() =>
        $"{Kind}{(CloseCode is { } c ? $" {c}" : "")} after {Data.Length} bytes ({System.Text.Encoding.UTF8.GetString(Data[..Math.Min(Data.Length, 80)])}) {Detail}";
}

/// <summary>
/// A client of one matrix transport with the operations the reliability rows need, the same on a
/// byte stream, a WebSocket (each send is one binary message) and UDP (each send is one datagram).
/// </summary>
internal abstract class MatrixClient : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>The client's socket (to shrink its receive buffer, or read its local address).</summary>
    public abstract System.Net.Sockets.Socket RawSocket { get; }

    /// <summary>The local port the server sees (for matching the server's log lines); null on Unix.</summary>
    public abstract int? LocalPort { get; }

    /// <summary>Sends <paramref name="data"/>: stream bytes, one binary WebSocket message, or one datagram.</summary>
    public abstract Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Receives until <paramref name="count"/> bytes came or the connection ended (UDP: until no
    /// reply came within <paramref name="quiet"/>). A graceful end is answered in kind (FIN, close
    /// frame), so the server's close completes.
    /// </summary>
    public abstract Task<Ending> ReceiveAsync(int count, TimeSpan? quiet = null);

    /// <summary>Receives until the server ends the connection; see <see cref="ReceiveAsync"/>.</summary>
    public Task<Ending> ReadToEndAsync(TimeSpan? timeout = null) => ReceiveAsync(int.MaxValue, timeout ?? Deadline);

    /// <summary>What arrives next (a read, a message, a datagram); null when the server ended gracefully. Throws on a reset.</summary>
    public abstract Task<byte[]?> ReceiveSomeAsync(CancellationToken cancellationToken);

    /// <summary>Ends the client's side gracefully (FIN / close_notify / close frame); UDP does nothing.</summary>
    public abstract Task CloseAsync();

    /// <summary>Drops the connection with a TCP reset (linger 0), as a crashed peer would.</summary>
    public abstract void Reset();

    /// <summary>Writes bytes below the transport's framing (a partial WebSocket frame, half a TLS record).</summary>
    public abstract Task SendRawAsync(ReadOnlyMemory<byte> bytes);

    public abstract ValueTask DisposeAsync();
}
