namespace Shout.Load;

/// <summary>
/// One connection of the load generator, as the workers see it: send, receive, half-close, abort.
/// A transport (TCP, Unix, TLS, UDP, WebSocket) is one <see cref="ILoadDialer"/> plus one subclass.
/// Implementations must not allocate per call on their steady path: the generator shares the
/// machine with the server it measures. One sender and one receiver may run concurrently.
/// </summary>
internal abstract class LoadChannel : IAsyncDisposable
{
    /// <summary>Sends every byte of <paramref name="data"/>.</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> data);

    /// <summary>Receives some bytes; 0 means the server closed its side.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer);

    /// <summary>Tells the server no more data will come (TCP FIN); replies can still be read.</summary>
    public abstract ValueTask HalfCloseAsync();

    /// <summary>Closes with a reset, leaving no TIME_WAIT behind (many short runs in a row).</summary>
    public abstract void Abort();

    /// <summary>Closes gracefully.</summary>
    public abstract ValueTask DisposeAsync();
}

/// <summary>Opens <see cref="LoadChannel"/>s to one server; resolved once, so dialing is cheap.</summary>
internal interface ILoadDialer
{
    /// <summary>Opens one connection. Throws <see cref="System.Net.Sockets.SocketException"/> or <see cref="TimeoutException"/>.</summary>
    ValueTask<LoadChannel> ConnectAsync(CancellationToken cancellationToken);
}
