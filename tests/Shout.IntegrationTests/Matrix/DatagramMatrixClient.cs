using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.IntegrationTests.Matrix;

/// <summary>A UDP socket bound to a chosen loopback address and connected to the server: one send, one datagram.</summary>
internal sealed class DatagramMatrixClient : MatrixClient
{
    /// <summary>How long a test waits for a reply that must not come. Replies on loopback take microseconds.</summary>
    public static readonly TimeSpan Unanswered = TimeSpan.FromSeconds(2);

    private DatagramMatrixClient(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    public override Socket RawSocket => Socket;

    public override int? LocalPort => ((IPEndPoint)Socket.LocalEndPoint!).Port;

    public static DatagramMatrixClient Connect(ShoutEndpoint server, IPAddress from)
    {
        var target = new IPEndPoint(IPAddress.Parse(server.Host), server.Port);
        var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 1024 * 1024 };
        socket.Bind(new IPEndPoint(from, 0));
        socket.Connect(target);
        return new DatagramMatrixClient(socket);
    }

    public override async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        await Socket.SendAsync(data, SocketFlags.None, cancellationToken);

    /// <summary>Receives datagrams until <paramref name="count"/> bytes came, or none came within <paramref name="quiet"/>.</summary>
    public override async Task<Ending> ReceiveAsync(int count, TimeSpan? quiet = null)
    {
        var output = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (output.Length < count)
        {
            using var deadline = new CancellationTokenSource(quiet ?? Unanswered);
            try
            {
                var read = await Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                output.Write(buffer, 0, read);
            }
            catch (OperationCanceledException)
            {
                return new Ending(output.ToArray(), EndKind.Open, null, $"no reply within {(quiet ?? Unanswered).TotalSeconds:0.#} s");
            }
            catch (SocketException e)
            {
                return new Ending(output.ToArray(), EndKind.Reset, null, e.Message);
            }
        }

        return new Ending(output.ToArray(), EndKind.Open, null, "");
    }

    /// <summary>Receives one datagram, or null when none came within <paramref name="timeout"/>.</summary>
    public async Task<byte[]?> ReceiveDatagramAsync(TimeSpan? timeout = null)
    {
        var buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(timeout ?? Deadline);
        try
        {
            var read = await Socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            return buffer[..read];
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Datagrams already queued for this socket, read without waiting.</summary>
    public int DrainQueued()
    {
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (Socket.Available > 0)
        {
            Socket.Receive(buffer);
            count++;
        }

        return count;
    }

    public override async Task<byte[]?> ReceiveSomeAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var read = await Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        return buffer[..read];
    }

    public override Task CloseAsync() => Task.CompletedTask;

    public override void Reset() => Socket.Close();

    public override async Task SendRawAsync(ReadOnlyMemory<byte> bytes) => await Socket.SendAsync(bytes);

    public override ValueTask DisposeAsync()
    {
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
