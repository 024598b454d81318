using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>Plain socket helpers for tests that need byte-level control.</summary>
internal static class RawClient
{
    public static async Task<Socket> ConnectAsync(ShoutEndpoint endpoint, TimeSpan? timeout = null)
    {
        EndPoint target = endpoint.Transport == ShoutTransport.Unix
            ? new UnixDomainSocketEndPoint(endpoint.Path)
            : new IPEndPoint(IPAddress.Parse(endpoint.Host), endpoint.Port);
        var socket = new Socket(target.AddressFamily, SocketType.Stream,
            endpoint.Transport == ShoutTransport.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(target, cts.Token);
        return socket;
    }

    /// <summary>Connects to a TCP endpoint from a chosen local address (any of 127.0.0.0/8 works on Linux loopback).</summary>
    public static async Task<Socket> ConnectFromAsync(ShoutEndpoint endpoint, IPAddress local, TimeSpan? timeout = null)
    {
        var target = new IPEndPoint(IPAddress.Parse(endpoint.Host), endpoint.Port);
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(local, 0));
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(target, cts.Token);
        return socket;
    }

    /// <summary>Reads until the peer closes, with a deadline.</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket socket, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var output = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, with a deadline.</summary>
    public static async Task<byte[]> ReadExactlyAsync(Socket socket, int count, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var buffer = new byte[count];
        var total = 0;
        while (total < count)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cts.Token);
            if (read == 0)
            {
                throw new Xunit.Sdk.XunitException($"connection closed after {total} of {count} bytes");
            }

            total += read;
        }

        return buffer;
    }
}
