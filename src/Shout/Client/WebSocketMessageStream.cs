namespace Shout.Client;

/// <summary>
/// A WebSocket conversation seen as a stream, as <see cref="DatagramStream"/> does for UDP: each
/// write is one message, reads return the replies' bytes in order (message boundaries are not
/// kept), and a read returns 0 once the server has closed. One reader and one writer may run concurrently.
/// </summary>
internal sealed class WebSocketMessageStream(ShoutWebSocketClient client) : MessageStream
{
    private bool _disposed;

    /// <summary>No more writes: sends the close frame; reads go on until the server closes.</summary>
    public Task CompleteWritesAsync() => client.CloseOutputAsync();

    /// <summary>Drops the connection without a closing handshake.</summary>
    public void Abort() => client.Abort();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        client.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        client.SendAsync(buffer, cancellationToken);

    // Async disposal closes politely; the synchronous kind can only drop the connection.
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            await client.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            client.Abort();
            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }
}
