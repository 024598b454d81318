using Shout.Client;
using Shout.Endpoints;

namespace Shout.Load;

/// <summary>
/// WebSocket (<c>ws://</c>, <c>wss://</c>) for the load generator, through the client's own
/// <see cref="ShoutWebSocketClient"/> (the same dial, TLS verification and close handling as
/// <c>shout send</c>). Every bench message is one WebSocket message of <c>--size</c> bytes, so a
/// pipelined send of N messages is N messages on the wire, each answered by one reply; the workers
/// check the replies' bytes in order, as on every transport.
/// </summary>
internal sealed class WebSocketLoadDialer(ShoutEndpoint endpoint, ShoutClientOptions client, int messageSize) : ILoadDialer
{
    public async ValueTask<LoadChannel> ConnectAsync(CancellationToken cancellationToken) =>
        new WebSocketLoadChannel(await ShoutWebSocketClient.ConnectAsync(endpoint, client, cancellationToken), messageSize);
}

/// <summary>One WebSocket as a load channel: sends cut into messages, replies read as bytes.</summary>
internal sealed class WebSocketLoadChannel(ShoutWebSocketClient client, int messageSize) : LoadChannel
{
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        for (var offset = 0; offset < data.Length; offset += messageSize)
        {
            await client.SendAsync(data.Slice(offset, Math.Min(messageSize, data.Length - offset)));
        }
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => client.ReceiveAsync(buffer);

    public override ValueTask HalfCloseAsync() => new(client.CloseOutputAsync());

    public override void Abort() => client.Abort();

    public override ValueTask DisposeAsync() => client.DisposeAsync();
}
