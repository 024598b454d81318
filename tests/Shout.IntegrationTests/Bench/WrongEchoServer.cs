using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.IntegrationTests.Bench;

/// <summary>
/// A deliberately wrong server for the load generator's checks: it echoes what it gets, unchanged,
/// on loopback port 0. Against <c>--expect upper</c> every reply is a mismatch.
/// </summary>
internal sealed class WrongEchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public WrongEchoServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public ShoutEndpoint Endpoint => ShoutEndpoint.For(ShoutTransport.Tcp, (IPEndPoint)_listener.LocalEndpoint);

    private async Task AcceptAsync()
    {
        var clients = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                clients.Add(EchoAsync(socket));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(clients);
    }

    private async Task EchoAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int n;
                while ((n = await socket.ReceiveAsync(buffer, _stop.Token)) > 0)
                {
                    await socket.SendAsync(buffer.AsMemory(0, n), _stop.Token);
                }

                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
