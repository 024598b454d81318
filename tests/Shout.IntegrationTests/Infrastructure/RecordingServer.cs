using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// A tiny TCP server for client tests: records every byte each connection sent and behaves as told:
/// <see cref="Mode.Upper"/> answers the uppercase as it reads and closes after the client's EOF;
/// <see cref="Mode.AnswerAndStayOpen"/> answers but never closes; <see cref="Mode.Silent"/> never answers.
/// </summary>
internal sealed class RecordingServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private readonly MemoryStream _received = new();
    private readonly Task _accepting;

    public enum Mode
    {
        Upper,
        AnswerAndStayOpen,
        Silent,
    }

    /// <param name="mode">How it answers.</param>
    /// <param name="at">Where it listens; default 127.0.0.1 on a free port.</param>
    public RecordingServer(Mode mode, IPEndPoint? at = null)
    {
        _listener = new TcpListener(at ?? new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Start();
        _accepting = AcceptAsync(mode);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Everything every connection sent, as text.</summary>
    public string Received
    {
        get
        {
            lock (_received)
            {
                return Encoding.UTF8.GetString(_received.ToArray());
            }
        }
    }

    public int Connections { get; private set; }

    private async Task AcceptAsync(Mode mode)
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_clients)
                {
                    _clients.Add(client);
                    Connections++;
                }

                _ = ServeAsync(client, mode);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client, Mode mode)
    {
        try
        {
            var stream = client.GetStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await stream.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (_received)
                {
                    _received.Write(buffer, 0, n);
                }

                if (mode != Mode.Silent)
                {
                    var upper = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(buffer, 0, n).ToUpperInvariant());
                    await stream.WriteAsync(upper, _stop.Token);
                }
            }

            if (mode == Mode.Upper)
            {
                client.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        _stop.Dispose();
    }
}
