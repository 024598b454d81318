using Shout.Client;
using Shout.Endpoints;

namespace Shout.Load;

/// <summary>
/// TLS and UDP for the load generator, through the client's own <see cref="ShoutConnection"/>
/// (TLS verification, pinning, the datagram stream). <c>SslStream</c> reads and writes on
/// <see cref="Memory{T}"/> do not allocate per call; over UDP each write is one datagram, so a
/// lost datagram shows as a reply that never comes (counted at the stop).
/// </summary>
internal sealed class ConnectionLoadDialer(ShoutEndpoint endpoint, ShoutClientOptions client) : ILoadDialer
{
    public async ValueTask<LoadChannel> ConnectAsync(CancellationToken cancellationToken) =>
        new ConnectionLoadChannel(await ShoutConnection.ConnectAsync(endpoint, client, cancellationToken));
}

/// <summary>One <see cref="ShoutConnection"/> as a load channel.</summary>
internal sealed class ConnectionLoadChannel(ShoutConnection connection) : LoadChannel
{
    public override ValueTask SendAsync(ReadOnlyMemory<byte> data) => connection.Stream.WriteAsync(data);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => connection.Stream.ReadAsync(buffer);

    public override ValueTask HalfCloseAsync() => connection.HalfCloseAsync();

    public override void Abort() => connection.Abort();

    public override ValueTask DisposeAsync() => connection.DisposeAsync();
}
