using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// One connection of <see cref="ContinuousClients"/> per transport: connect, send one line, end the
/// sending side, read the reply to the server's end. Every step has a deadline.
/// </summary>
internal static class ContinuousExchanges
{
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan SlowConnect = TimeSpan.FromMilliseconds(900);

    /// <summary>TCP (v4 or v6) or Unix; over TLS when <paramref name="tls"/> is given (it decides whom to trust).</summary>
    public static async Task<string> StreamAsync(EndPoint target, RemoteCertificateValidationCallback? tls, string message, Action slow)
    {
        using var socket = new Socket(target.AddressFamily, SocketType.Stream,
            target is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        using var deadline = new CancellationTokenSource(StepTimeout);
        var started = Stopwatch.GetTimestamp();
        await socket.ConnectAsync(target, deadline.Token);
        if (Stopwatch.GetElapsedTime(started) > SlowConnect)
        {
            slow();
        }

        await using var network = new NetworkStream(socket, ownsSocket: false);
        Stream stream = network;
        SslStream? ssl = null;
        if (tls is not null)
        {
            ssl = new SslStream(network, leaveInnerStreamOpen: true);
            stream = ssl;
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = tls },
                deadline.Token);
        }

        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(message), deadline.Token);
            await stream.FlushAsync(deadline.Token);
            if (ssl is not null)
            {
                await ssl.ShutdownAsync();
            }

            socket.Shutdown(SocketShutdown.Send);
            using var reply = new MemoryStream();
            await stream.CopyToAsync(reply, deadline.Token);
            return Encoding.ASCII.GetString(reply.ToArray());
        }
        finally
        {
            if (ssl is not null)
            {
                await ssl.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A WebSocket to <paramref name="uri"/> (ws://, or wss:// trusting what <paramref name="tls"/>
    /// trusts): one text message, its reply, then the closing handshake.
    /// </summary>
    public static async Task<string> WebSocketAsync(Uri uri, RemoteCertificateValidationCallback? tls, string message, Action slow)
    {
        using var deadline = new CancellationTokenSource(StepTimeout);
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.RemoteCertificateValidationCallback = tls;
        var started = Stopwatch.GetTimestamp();
        await socket.ConnectAsync(uri, deadline.Token);
        if (Stopwatch.GetElapsedTime(started) > SlowConnect)
        {
            slow();
        }

        await socket.SendAsync(Encoding.ASCII.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", deadline.Token);
        var reply = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, deadline.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return Encoding.ASCII.GetString(reply.ToArray());
            }

            reply.Write(buffer, 0, result.Count);
        }
    }

    /// <summary>One datagram from a new socket and the one reply datagram (no reply within the deadline is lost).</summary>
    public static async Task<string> DatagramAsync(IPEndPoint target, string message, Action slow)
    {
        _ = slow;
        using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var deadline = new CancellationTokenSource(StepTimeout);
        await socket.ConnectAsync(target, deadline.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(message), SocketFlags.None, deadline.Token);
        var buffer = new byte[65_536];
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }
}
