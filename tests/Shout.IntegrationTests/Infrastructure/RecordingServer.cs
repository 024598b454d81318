using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// A tiny TCP server for client tests: records every byte each connection sent and behaves as told:
/// <see cref="Mode.Upper"/> answers the uppercase as it reads and closes after the client's EOF;
/// <see cref="Mode.AnswerAndStayOpen"/> answers but never closes; <see cref="Mode.Silent"/> never answers.
/// </summary>
internal sealed class RecordingServer : LoopbackTestServer
{
    private readonly MemoryStream _received = new();
    private readonly Mode _mode;

    public enum Mode
    {
        Upper,
        AnswerAndStayOpen,
        Silent,
    }

    /// <param name="mode">How it answers.</param>
    /// <param name="at">Where it listens; default 127.0.0.1 on a free port.</param>
    public RecordingServer(Mode mode, IPEndPoint? at = null)
        : base(at)
    {
        _mode = mode;
        StartAccepting();
    }

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

    protected override async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await stream.ReadAsync(buffer, Stop.Token)) > 0)
            {
                lock (_received)
                {
                    _received.Write(buffer, 0, n);
                }

                if (_mode != Mode.Silent)
                {
                    var upper = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(buffer, 0, n).ToUpperInvariant());
                    await stream.WriteAsync(upper, Stop.Token);
                }
            }

            if (_mode == Mode.Upper)
            {
                client.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }
}
