using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Shout.IntegrationTests.Toxics;

/// <summary>
/// A UDP server on loopback port 0 for the udp proxy's tests: records each datagram's sequence
/// number (its first 4 bytes, big-endian) in the order they arrive and the source they came from,
/// and echoes each back when asked to.
/// </summary>
internal sealed class UdpSink : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly List<int> _order = [];
    private readonly List<EndPoint> _sources = [];
    private readonly List<(long At, int Bytes)> _arrivals = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _highest = -1;

    public UdpSink(bool echo)
    {
        _socket.ReceiveBufferSize = 4 << 20;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _loop = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            EndPoint any = new IPEndPoint(IPAddress.Any, 0);
            while (true)
            {
                SocketReceiveFromResult r;
                try
                {
                    r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                var seq = BinaryPrimitives.ReadInt32BigEndian(buffer);
                lock (_order)
                {
                    _order.Add(seq);
                    _sources.Add(r.RemoteEndPoint);
                    _arrivals.Add((System.Diagnostics.Stopwatch.GetTimestamp(), r.ReceivedBytes));
                    _highest = Math.Max(_highest, seq);
                }

                if (echo)
                {
                    await _socket.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint);
                }

                _arrived.Release();
            }
        });
    }

    public string Address => $"udp://127.0.0.1:{((IPEndPoint)_socket.LocalEndPoint!).Port}";

    /// <summary>The sequence numbers in the order they arrived.</summary>
    public int[] Order
    {
        get
        {
            lock (_order)
            {
                return [.. _order];
            }
        }
    }

    /// <summary>When each datagram arrived (a Stopwatch timestamp) and its size, in the order they arrived.</summary>
    public (long At, int Bytes)[] Arrivals
    {
        get
        {
            lock (_order)
            {
                return [.. _arrivals];
            }
        }
    }

    public EndPoint[] Sources
    {
        get
        {
            lock (_order)
            {
                return [.. _sources];
            }
        }
    }

    public int Highest
    {
        get
        {
            lock (_order)
            {
                return _highest;
            }
        }
    }

    /// <summary>Waits (event-driven, up to <paramref name="timeout"/>) until <paramref name="done"/> holds.</summary>
    public async Task WaitUntilAsync(Func<UdpSink, bool> done, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!done(this))
        {
            try
            {
                await _arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"waited {timeout.TotalSeconds} s for {what}; {Order.Length} datagrams arrived, highest {Highest}");
            }
        }
    }

    /// <summary>
    /// Sends datagrams <paramref name="from"/>..<paramref name="to"/> (exclusive) through
    /// <paramref name="client"/>, at most <paramref name="window"/> ahead of the highest the sink has
    /// seen, so no socket buffer on the way ever holds more than a window and the kernel drops none:
    /// what goes missing is what the proxy dropped.
    /// </summary>
    public async Task SendPacedAsync(Socket client, int from, int to, int window = 32)
    {
        var datagram = new byte[16];
        for (var i = from; i < to; i++)
        {
            if (i - window > Highest)
            {
                await WaitUntilAsync(s => i - window <= s.Highest, TimeSpan.FromSeconds(30), $"datagram {i - window} to arrive");
            }

            BinaryPrimitives.WriteInt32BigEndian(datagram, i);
            await client.SendAsync(datagram, SocketFlags.None);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(10));
        _stop.Dispose();
        _arrived.Dispose();
    }

    /// <summary>A client socket connected to a udp proxy on loopback.</summary>
    public static Socket Client(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }
}
