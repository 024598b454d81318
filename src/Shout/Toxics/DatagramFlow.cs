using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Shout.Toxics;

/// <summary>
/// The datagrams of one client source (address and port) through a udp proxy: its own socket
/// connected to the upstream, so the server sees one peer per client and its answers come back to
/// this flow only, and a lane of toxics each way. Ends when idle too long or the proxy stops.
/// </summary>
internal sealed class DatagramFlow : IDisposable
{
    /// <summary>The largest datagram (IPv4's UDP payload limit is 65,507 bytes).</summary>
    public const int MaxDatagram = 65_535;

    private readonly Socket _upstream;
    private readonly CancellationTokenSource _end = new();
    private long _lastActive = Stopwatch.GetTimestamp();
    private int _ended;
    private int _disposed;

    public DatagramFlow(Socket listener, EndPoint client, Socket upstream, ToxicChain toxics, ToxicRandom random)
    {
        Client = client;
        _upstream = upstream;
        var decisions = new ToxicDecisions(random);
        Up = new DatagramLane(toxics, ToxicStream.Upstream, random, decisions, (d, c) => upstream.SendAsync(d, SocketFlags.None, c), End, _end.Token);
        Down = new DatagramLane(toxics, ToxicStream.Downstream, random, decisions, (d, c) => listener.SendToAsync(d, SocketFlags.None, client, c), End, _end.Token);
    }

    public EndPoint Client { get; }

    /// <summary>Client → server.</summary>
    public DatagramLane Up { get; }

    public DatagramLane Down { get; }

    /// <summary>Ended by a timeout toxic: the proxy replaces it at the source's next datagram.</summary>
    public bool Ended => Volatile.Read(ref _ended) != 0;

    public TimeSpan Idle => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastActive));

    public void Touch() => Volatile.Write(ref _lastActive, Stopwatch.GetTimestamp());

    /// <summary>Forwards the server's datagrams to the client until the flow ends.</summary>
    public async Task RunAsync()
    {
        var buffer = new byte[MaxDatagram];
        while (!_end.IsCancellationRequested)
        {
            int read;
            try
            {
                read = await _upstream.ReceiveAsync(buffer, SocketFlags.None, _end.Token).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // ECONNREFUSED: an ICMP port unreachable for an earlier datagram (the server is not
                // there, yet). The datagram was lost; the flow stays, as the server may come up.
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            Touch();
            try
            {
                await Down.ForwardAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Stops forwarding and closes the upstream socket (the server's peer is gone, as when idle).</summary>
    public void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _end.Cancel();
            _upstream.Dispose();
        }
    }

    public void Dispose()
    {
        End();
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _end.Dispose();
        }
    }
}
