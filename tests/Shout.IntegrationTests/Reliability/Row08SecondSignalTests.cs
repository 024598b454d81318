using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 8, around a long drain: the listener closes at once (new clients are refused)
/// and an operator's second Ctrl+C/SIGTERM exits at once.
/// </summary>
public sealed class Row08SecondSignalTests
{
    [Fact]
    public async Task Row08_during_the_drain_new_connections_are_refused_and_a_second_signal_exits_at_once()
    {
        // A client that never reads keeps the drain waiting for the whole minute of --shutdown-timeout.
        await using var server = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0",
            "--shutdown-timeout", "60s", "--write-timeout", "0");
        var endpoint = await server.WaitForTcpListeningAsync();
        using var stuck = await RawClient.ConnectAsync(endpoint);
        stuck.ReceiveBufferSize = 4096;
        var flood = FloodAsync(stuck);

        await server.WaitForOutputAsync(_ => flood.IsCompleted || !stuck.Poll(0, SelectMode.SelectWrite), TimeSpan.FromSeconds(30));
        server.Signal(15);
        await server.WaitForLineAsync("Shout draining", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => Refused(endpoint.Port), TimeSpan.FromSeconds(15), () => "the listener still accepts during the drain");
        Assert.False(server.HasExited);
        server.Signal(15);

        Assert.Equal(130, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("second signal", server.Stderr, StringComparison.Ordinal);
    }

    private static bool Refused(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Connect(System.Net.IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    /// <summary>Sends until the connection breaks; the server's replies back up because nothing reads them.</summary>
    private static async Task FloodAsync(Socket socket)
    {
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'x');
        try
        {
            while (true)
            {
                await socket.SendAsync(chunk);
            }
        }
        catch (SocketException)
        {
            // The server went away: the test is over.
        }
        catch (ObjectDisposedException)
        {
            // The test disposed the socket.
        }
    }

}
