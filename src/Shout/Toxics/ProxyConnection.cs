using System.Net.Sockets;

namespace Shout.Toxics;

/// <summary>
/// One client connection through a proxy and its upstream connection: a pump each way, and a
/// watch on the timeout toxic, which closes the connection on a timer even when no byte moves.
/// Ends in one of three ways: both sides sent FIN and it was forwarded (normal), a toxic or the
/// proxy closed it (FIN both ways: timeout, limit_data), or a reset (RST both ways: a peer reset
/// or failed, reset_peer, the proxy disabled or deleted).
/// </summary>
internal sealed class ProxyConnection : IProxiedConnection, IDisposable
{
    private readonly Socket _client;
    private readonly Socket _upstream;
    private readonly ToxicDecisions _decisions;
    private readonly CancellationTokenSource _end = new();
    private readonly TaskCompletionSource _downstreamClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ended;

    public ProxyConnection(Socket client, Socket upstream, ToxicChain toxics, ToxicRandom random)
    {
        _client = client;
        _upstream = upstream;
        Toxics = toxics;
        Random = random;
        _decisions = new ToxicDecisions(random);
    }

    public ToxicChain Toxics { get; }

    public ToxicRandom Random { get; }

    /// <summary>Cancelled when the connection is closed or reset by the proxy.</summary>
    public CancellationToken Ended => _end.Token;

    /// <summary>
    /// Completes when the server's FIN has been forwarded to the client (after everything before
    /// it), or the connection ended: what a graceful stop of the proxy waits for.
    /// </summary>
    public Task DownstreamClosed => _downstreamClosed.Task;

    /// <summary>Called by a pump when it has forwarded its side's FIN.</summary>
    public void FinForwarded(ToxicStream stream)
    {
        if (stream == ToxicStream.Downstream)
        {
            _downstreamClosed.TrySetResult();
        }
    }

    public async Task RunAsync()
    {
        var up = new ProxyPump(this, _client, _upstream, ToxicStream.Upstream).RunAsync();
        var down = new ProxyPump(this, _upstream, _client, ToxicStream.Downstream).RunAsync();
        var watch = ToxicTimeouts.WatchAsync(Toxics, _decisions, Close, Ended);
        await Task.WhenAll(up, down).ConfigureAwait(false);
        // Both FINs forwarded (or the connection already ended): the sockets are done.
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _client.Dispose();
            _upstream.Dispose();
        }

        await _end.CancelAsync().ConfigureAwait(false);
        _downstreamClosed.TrySetResult();
        await watch.ConfigureAwait(false);
    }

    public void Dispose() => _end.Dispose();

    /// <summary>Whether a toxic acts on this connection (decided once per toxic), and when the connection first met it.</summary>
    public bool Applies(ToxicSpec toxic, out long firstSeen) => _decisions.Applies(toxic, out firstSeen);

    /// <summary>Closes both sides with a FIN (what toxiproxy's timeout and limit_data do).</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        _end.Cancel();
        _downstreamClosed.TrySetResult();
        foreach (var socket in new[] { _client, _upstream })
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }

            socket.Dispose();
        }
    }

    /// <summary>
    /// Resets both sides: linger 0 makes close send a RST on TCP (a Unix socket has none; its
    /// peer sees the close), so a peer's reset reaches the other peer as a reset.
    /// </summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        _end.Cancel();
        _downstreamClosed.TrySetResult();
        Reset(_client);
        Reset(_upstream);
    }

    public static void Reset(Socket socket)
    {
        try
        {
            if (socket.ProtocolType == ProtocolType.Tcp)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        socket.Dispose();
    }
}
