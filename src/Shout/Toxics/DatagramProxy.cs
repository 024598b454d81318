using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Shout.Toxics;

/// <summary>
/// A udp proxy's listening socket: each datagram is forwarded to the upstream from a socket of its
/// client source's own (a flow), made at the source's first datagram and closed after
/// <see cref="ToxicProxy.DatagramIdle"/> without a datagram either way. At most
/// <see cref="MaxFlows"/> flows at once: a new source past that is not forwarded (its datagrams are
/// lost) until one expires, so a flood of spoofed sources costs a bounded number of sockets.
/// </summary>
internal sealed class DatagramProxy : IDisposable
{
    public const int MaxFlows = 4096;

    /// <summary>Socket buffers each way: a burst of small datagrams is queued by the kernel, not dropped, while the proxy catches up.</summary>
    private const int SocketBuffer = 1 << 20;

    private readonly Socket _listener;
    private readonly ProxyAddress _upstream;
    private readonly ToxicChain _toxics;
    private readonly ToxicRandom _random;
    private readonly TimeSpan _idle;
    private readonly string _name;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<EndPoint, DatagramFlow> _flows = new();
    private readonly CancellationTokenSource _stop = new();
    private EndPoint? _upstreamEndPoint;
    private bool _fullSaid;

    public DatagramProxy(Socket listener, ProxyAddress upstream, ToxicChain toxics, ToxicRandom random, TimeSpan idle, string name, ILogger log)
    {
        _listener = listener;
        _upstream = upstream;
        _toxics = toxics;
        _random = random;
        _idle = idle;
        _name = name;
        _log = log;
        TrySetBuffers(listener);
    }

    /// <summary>The flows open (not ended by a timeout toxic and waiting for their source's next datagram to be replaced).</summary>
    public int Flows => _flows.Values.Count(f => !f.Ended);

    /// <summary>Datagrams read from clients and passed through the toxics (forwarded, held or dropped) so far.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    private long _handled;

    public void Start()
    {
        _ = ReceiveAsync();
        _ = ExpireAsync();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (var flow in _flows.Values)
        {
            flow.Dispose();
        }

        _flows.Clear();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[DatagramFlow.MaxDatagram];
        EndPoint any = _listener.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _listener.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // An ICMP error for an earlier answer to a client that has gone: that client's loss.
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            var flow = await FlowAsync(received.RemoteEndPoint).ConfigureAwait(false);
            if (flow is null)
            {
                Interlocked.Increment(ref _handled);
                continue;
            }

            flow.Touch();
            try
            {
                await flow.Up.ForwardAsync(buffer.AsMemory(0, received.ReceivedBytes)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // That flow ended (expired) while sending: the datagram is lost, the proxy goes on.
            }
            finally
            {
                Interlocked.Increment(ref _handled);
            }
        }
    }

    /// <summary>The source's flow, made at its first datagram; null when it cannot be (no upstream, too many flows).</summary>
    private async ValueTask<DatagramFlow?> FlowAsync(EndPoint client)
    {
        if (_flows.TryGetValue(client, out var flow))
        {
            if (!flow.Ended)
            {
                return flow;
            }

            // A timeout toxic ended it ("cable unplugged"): this datagram starts a new flow, from a new port.
            _flows.TryRemove(new KeyValuePair<EndPoint, DatagramFlow>(client, flow));
            flow.Dispose();
        }

        if (_flows.Count >= MaxFlows)
        {
            if (!_fullSaid)
            {
                _fullSaid = true;
                ToxicProxyLog.TooManyFlows(_log, _name, MaxFlows);
            }

            return null;
        }

        _fullSaid = false;
        Socket? socket = null;
        try
        {
            _upstreamEndPoint ??= (await _upstream.ResolveAsync(_stop.Token).ConfigureAwait(false))[0];
            socket = _upstream.NewSocket(_upstreamEndPoint);
            TrySetBuffers(socket);
            await socket.ConnectAsync(_upstreamEndPoint, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IndexOutOfRangeException)
        {
            socket?.Dispose();
            ToxicProxyLog.UpstreamUnusable(_log, _name, _upstream.ToString(), e.Message);
            return null;
        }

        flow = new DatagramFlow(_listener, client, socket, _toxics, _random);
        _flows[client] = flow;
        _ = flow.RunAsync();
        return flow;
    }

    /// <summary>Closes the flows idle longer than the expiry, checking a few times per expiry.</summary>
    private async Task ExpireAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Clamp(_idle.Ticks / 4, TimeSpan.TicksPerMillisecond * 50, TimeSpan.TicksPerSecond * 5)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                foreach (var (client, flow) in _flows)
                {
                    if (flow.Idle >= _idle && _flows.TryRemove(client, out _))
                    {
                        flow.Dispose();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void TrySetBuffers(Socket socket)
    {
        try
        {
            socket.ReceiveBufferSize = SocketBuffer;
            socket.SendBufferSize = SocketBuffer;
        }
        catch (SocketException)
        {
            // The system's cap (net.core.rmem_max) is what it gets.
        }
    }
}

