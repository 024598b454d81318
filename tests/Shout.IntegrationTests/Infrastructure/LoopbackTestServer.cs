using System.Net;
using System.Net.Sockets;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// What the small test servers share: a listener (127.0.0.1 on a free port unless told), an accept
/// loop that hands each client to <see cref="ServeAsync"/>, and a dispose that stops both and closes
/// every client still open.
/// </summary>
internal abstract class LoopbackTestServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly List<TcpClient> _clients = [];
    private Task _accepting = Task.CompletedTask;
    private int _disposed;

    protected LoopbackTestServer(IPEndPoint? at = null)
    {
        _listener = new TcpListener(at ?? new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Start();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Clients accepted so far.</summary>
    public int Connections { get; private set; }

    /// <summary>Cancelled when the server is disposed.</summary>
    protected CancellationTokenSource Stop { get; } = new();

    /// <summary>Starts accepting; called by the subclass's constructor once it is ready to serve.</summary>
    protected void StartAccepting() => _accepting = AcceptAsync();

    /// <summary>Serves one client until it or the server is done; exceptions of a closed connection are the caller's to swallow.</summary>
    protected abstract Task ServeAsync(TcpClient client);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(Stop.Token);
                lock (_clients)
                {
                    _clients.Add(client);
                    Connections++;
                }

                _ = ServeAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await Stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        Stop.Dispose();
    }
}
