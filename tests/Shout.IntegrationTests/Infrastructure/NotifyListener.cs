using System.Net.Sockets;
using System.Text;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// The test's own sd_notify receiver: a Unix datagram socket at a temporary path, given to a
/// process as <c>NOTIFY_SOCKET</c>, collecting every message it sends (e.g. <c>READY=1</c>).
/// </summary>
internal sealed class NotifyListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly List<string> _messages = [];
    private readonly Lock _gate = new();
    private readonly Task _loop;

    public NotifyListener(string path)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _loop = Task.Run(ReceiveAsync);
    }

    public string Path { get; }

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Waits until a message holding the line <paramref name="assignment"/> (e.g. <c>READY=1</c>) has arrived <paramref name="times"/> times.</summary>
    public Task WaitForAsync(string assignment, TimeSpan timeout, int times = 1) =>
        Eventually.TrueAsync(() => Count(assignment) >= times, timeout,
            () => $"waiting for {assignment} x{times}; received: [{string.Join(" | ", Messages.Select(m => m.Replace('\n', ' ')))}]");

    public int Count(string assignment) => Messages.Count(m => m.Split('\n').Contains(assignment));

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await _socket.ReceiveAsync(buffer, SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_gate)
            {
                _messages.Add(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(5));
        if (File.Exists(Path))
        {
            File.Delete(Path);
        }
    }
}
