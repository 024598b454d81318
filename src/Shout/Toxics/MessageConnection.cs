using System.Net.Sockets;
using System.Net.WebSockets;

namespace Shout.Toxics;

/// <summary>
/// One client WebSocket through a ws proxy and its upstream WebSocket: a <see cref="MessagePump"/>
/// each way and the timeout toxic's clock. Ends in one of four ways: each side's close frame was
/// forwarded to the other (normal; then the TCP connections close), the proxy closed both with
/// close frames (limit_data, a message over the size limit), the timeout toxic closed both TCP
/// connections without a close frame ("cable unplugged"), or a reset (RST both ways: a peer's
/// reset or protocol failure, reset_peer, the proxy disabled or deleted).
/// </summary>
internal sealed class MessageConnection : IProxiedConnection, IDisposable
{
    /// <summary>How long the peers have to answer close frames the proxy sent before their connections are closed anyway.</summary>
    public static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    private readonly Socket _clientSocket;
    private readonly WebSocket _client;
    private readonly MessageUpstream _upstream;
    private readonly ToxicDecisions _decisions;
    private readonly CancellationTokenSource _end = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closeBegun = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ended;
    private int _closeStarted;

    public MessageConnection(Socket clientSocket, WebSocket client, MessageUpstream upstream, ToxicChain toxics, ToxicRandom random)
    {
        _clientSocket = clientSocket;
        _client = client;
        _upstream = upstream;
        Toxics = toxics;
        Random = random;
        _decisions = new ToxicDecisions(random);
    }

    public ToxicChain Toxics { get; }

    public ToxicRandom Random { get; }

    /// <summary>Cancelled when the connection is torn down (closed or reset).</summary>
    public CancellationToken Ended => _end.Token;

    /// <summary>Cancelled when the proxy starts closing both sides with close frames (or the connection ended).</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>The close frame the proxy sends both sides when it closes them itself.</summary>
    public (WebSocketCloseStatus Status, string Reason) CloseFrame { get; private set; }

    public async Task RunAsync()
    {
        var pumps = Task.WhenAll(
            new MessagePump(this, _client, _upstream.WebSocket, ToxicStream.Upstream).RunAsync(),
            new MessagePump(this, _upstream.WebSocket, _client, ToxicStream.Downstream).RunAsync());
        var watch = ToxicTimeouts.WatchAsync(Toxics, _decisions, Close, Ended);
        await Task.WhenAny(pumps, _closeBegun.Task).ConfigureAwait(false);
        if (!pumps.IsCompleted)
        {
            // The proxy sent close frames: the peers' answers end the pumps, or the wait does.
            await Task.WhenAny(pumps, Task.Delay(CloseWait, Ended)).ConfigureAwait(false);
        }

        // Both close frames forwarded (or the proxy closed): the connections close with a FIN.
        Close();
        await pumps.ConfigureAwait(false);
        await watch.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _end.Dispose();
        _closing.Dispose();
        _client.Dispose();
        _upstream.Dispose();
    }

    /// <summary>Whether a toxic acts on this connection (decided once per toxic).</summary>
    public bool Applies(ToxicSpec toxic) => _decisions.Applies(toxic, out _);

    /// <summary>Closes both sides with a close frame (limit_data, a message too big); each pump sends it after what it is sending.</summary>
    public void BeginClose(WebSocketCloseStatus status, string reason)
    {
        if (Volatile.Read(ref _ended) != 0 || Interlocked.Exchange(ref _closeStarted, 1) != 0)
        {
            return;
        }

        CloseFrame = (status, reason);
        _closing.Cancel();
        _closeBegun.TrySetResult();
    }

    /// <summary>Closes both TCP connections with a FIN, no close frame (the timeout toxic, and the end of a closed connection).</summary>
    public void Close() => End(reset: false);

    /// <summary>Resets both TCP connections (RST): a peer's reset reaches the other peer as a reset.</summary>
    public void Abort() => End(reset: true);

    private void End(bool reset)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        foreach (var socket in new[] { _clientSocket, _upstream.Raw })
        {
            if (reset)
            {
                ProxyConnection.Reset(socket);
                continue;
            }

            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }

            socket.Dispose();
        }

        // After the sockets: what the WebSockets still wait for fails at once.
        _closing.Cancel();
        _end.Cancel();
        _client.Abort();
        _upstream.WebSocket.Abort();
    }
}
