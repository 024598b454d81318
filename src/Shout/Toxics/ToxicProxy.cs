using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Shout.Toxics;

/// <summary>
/// One named proxy: a listener that, while enabled, accepts stream connections and forwards each
/// to the upstream through the proxy's toxics (or, for udp://, forwards datagrams per client
/// source: <see cref="DatagramProxy"/>; for ws://, WebSocket messages: <see cref="MessageProxying"/>).
/// A connection whose upstream cannot be reached is reset at once (linger 0: the client reads
/// ECONNRESET; a ws client's handshake is refused with 502), never left hanging.
/// </summary>
internal sealed class ToxicProxy : IDisposable
{
    /// <summary>How long a connection waits for the upstream to accept before it is reset.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<IProxiedConnection, byte> _connections = new();
    private readonly ToxicRandom _random;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private Socket? _listener;
    private DatagramProxy? _datagrams;
    private CancellationTokenSource? _stop;
    private readonly ProxyTls _tls;

    public ToxicProxy(string name, ProxyAddress listen, ProxyAddress upstream, ToxicRandom random, ILogger log, ProxyTls? tls = null)
    {
        _tls = tls ?? new ProxyTls();
        Name = name;
        Listen = listen;
        Upstream = upstream;
        _random = random;
        _log = log;
    }

    public string Name { get; }

    /// <summary>The listen address; once listening, with the port the system chose.</summary>
    public ProxyAddress Listen { get; private set; }

    public ProxyAddress Upstream { get; private set; }

    public bool Enabled { get; private set; }

    public ToxicChain Toxics { get; } = new();

    public int OpenConnections => _connections.Count + (_datagrams?.Flows ?? 0);

    /// <summary>For udp://: datagrams from clients the toxics have judged so far (forwarded, held or dropped).</summary>
    public long DatagramsHandled => _datagrams?.Handled ?? 0;

    /// <summary>A udp proxy closes a client source's flow after this long without a datagram either way.</summary>
    public TimeSpan DatagramIdle { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Bytes sent to the upstream before anything of the client's (e.g. a PROXY header naming the
    /// client, as <c>serve --toxic</c> sends its own server); null for none.
    /// </summary>
    public Func<Socket, byte[]>? Preamble { get; init; }

    /// <summary>
    /// Called with the listen address each time the listener is bound, before it listens (serve
    /// --toxic sets a Unix socket's mode here, so a front enabled again keeps it); null for nothing.
    /// </summary>
    public Action<ProxyAddress>? Bound { get; init; }

    /// <summary>Null when the toxic can act on this proxy's kind (stream or datagrams), else the one-line reason.</summary>
    public string? Refuses(ToxicSpec toxic) => ToxicTypes.Refuses(toxic.Type, Listen.Kind);

    /// <summary>Starts listening; throws <see cref="SocketException"/> when the address cannot be bound.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (Enabled)
            {
                return;
            }

            var endPoint = Listen.ResolveAsync(CancellationToken.None).GetAwaiter().GetResult()[0];
            var listener = Listen.NewSocket(endPoint);
            try
            {
                if (!Listen.IsUnix && !Listen.IsDatagram)
                {
                    listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                }

                if (endPoint is IPEndPoint { Address: var any } && any.Equals(IPAddress.IPv6Any))
                {
                    // [::] listens on IPv6 and IPv4, as shout serve's does.
                    listener.DualMode = true;
                }

                listener.Bind(endPoint);
                Bound?.Invoke(Listen);
                if (!Listen.IsDatagram)
                {
                    listener.Listen(512);
                }
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            Listen = Listen.Bound(listener.LocalEndPoint!);
            _listener = listener;
            _stop = new CancellationTokenSource();
            Enabled = true;
            if (Listen.IsDatagram)
            {
                _datagrams = new DatagramProxy(listener, Upstream, Toxics, _random, DatagramIdle, Name, _log);
                _datagrams.Start();
            }
            else
            {
                _ = AcceptAsync(listener, _stop.Token);
            }

            ToxicProxyLog.Listening(_log, Name, Listen, Upstream);
        }
    }

    /// <summary>
    /// Stops accepting, so new connections are refused by the kernel, and lets open ones go on (a
    /// server in front of which the proxy stands is draining them); <see cref="Stop"/> ends them.
    /// </summary>
    public void StopAccepting()
    {
        lock (_gate)
        {
            if (!Listen.IsDatagram)
            {
                _listener?.Dispose();
            }
        }
    }

    /// <summary>
    /// A full stop behind a server that has drained: no new connections; each open one gets up to
    /// <paramref name="bound"/> to deliver what the proxy still holds of the server's (its drain
    /// notice, held by a latency toxic) and the server's FIN, and is then closed (FIN); one that has
    /// not by then is reset, as <see cref="Stop"/> resets.
    /// </summary>
    public async Task StopGracefullyAsync(TimeSpan bound)
    {
        StopAccepting();
        var open = _connections.Keys.OfType<ProxyConnection>().ToArray();
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await Task.WhenAll(open.Select(c => c.DownstreamClosed)).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var connection in open)
        {
            if (connection.DownstreamClosed.IsCompleted)
            {
                connection.Close();
            }
        }

        Stop();
    }

    /// <summary>Stops listening and resets every open connection (as toxiproxy's disable does).</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (!Enabled)
            {
                return;
            }

            Enabled = false;
            _stop!.Cancel();
            _stop.Dispose();
            _listener!.Dispose();
            _listener = null;
            _datagrams?.Dispose();
            _datagrams = null;
            if (Listen.IsUnix)
            {
                File.Delete(Listen.Endpoint.Path);
            }
        }

        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }

        ToxicProxyLog.Stopped(_log, Name);
    }

    public void Dispose() => Stop();

    /// <summary>New listen/upstream/enabled values; a changed address restarts the listener.</summary>
    public void Update(ProxyAddress listen, ProxyAddress upstream, bool enabled)
    {
        var restart = Enabled && (listen != Listen || upstream != Upstream);
        if (restart || !enabled)
        {
            Stop();
        }

        Listen = listen;
        Upstream = upstream;
        if (enabled)
        {
            Start();
        }
    }

    private async Task AcceptAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                // The listener was closed (StopAccepting at a server's drain): not a failure.
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors and the like: this accept failed, the listener goes on.
                ToxicProxyLog.AcceptFailed(_log, Name, e.SocketErrorCode);
                await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            _ = ServeAsync(client, stop);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stop)
    {
        try
        {
            if (client.ProtocolType == ProtocolType.Tcp)
            {
                client.NoDelay = true;
            }
        }
        catch (SocketException)
        {
            // Reset before it was served: nothing to forward.
            client.Dispose();
            return;
        }

        if (Listen.IsMessages)
        {
            await MessageProxying.ServeAsync(client, this, _tls, _random, _log, _connections, stop).ConfigureAwait(false);
            return;
        }

        if (Listen.IsTls)
        {
            // The handshake first: a client that fails it is reset without the upstream being dialed.
            var plain = await TlsBridge.TerminateAsync(client, _tls.Certificate, stop).ConfigureAwait(false);
            if (plain is null)
            {
                return;
            }

            client = plain;
        }

        var upstream = await ConnectAsync(stop).ConfigureAwait(false);
        if (upstream is not null && Upstream.IsTls)
        {
            upstream = await TlsBridge.OriginateAsync(upstream, Upstream.Endpoint.Host, _tls.UpstreamTrust,
                reason => ToxicProxyLog.UpstreamDown(_log, Name, Upstream.ToString(), reason), stop).ConfigureAwait(false);
        }

        if (upstream is not null && Preamble is not null && !await SendPreambleAsync(client, upstream, stop).ConfigureAwait(false))
        {
            ProxyConnection.Reset(upstream);
            upstream = null;
        }

        if (upstream is null)
        {
            ProxyConnection.Reset(client);
            return;
        }

        using var connection = new ProxyConnection(client, upstream, Toxics, _random);
        _connections[connection] = 0;
        try
        {
            if (stop.IsCancellationRequested)
            {
                connection.Abort();
            }

            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }

    private async Task<bool> SendPreambleAsync(Socket client, Socket upstream, CancellationToken stop)
    {
        try
        {
            // A few dozen bytes into an empty send buffer: completes at once unless the upstream is gone.
            await upstream.SendAsync(Preamble!(client), SocketFlags.None, stop).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            ToxicProxyLog.UpstreamDown(_log, Name, Upstream.ToString(), e.Message);
            return false;
        }
    }

    private async Task<Socket?> ConnectAsync(CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(ConnectTimeout);
        EndPoint[] endPoints;
        try
        {
            endPoints = await Upstream.ResolveAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            ToxicProxyLog.UpstreamDown(_log, Name, Upstream.ToString(), e.Message);
            return null;
        }

        var reason = "no address";
        foreach (var endPoint in endPoints)
        {
            var socket = Upstream.NewSocket(endPoint);
            try
            {
                await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
                return socket;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                reason = e.Message;
                socket.Dispose();
            }
        }

        ToxicProxyLog.UpstreamDown(_log, Name, Upstream.ToString(), reason);
        return null;
    }
}
