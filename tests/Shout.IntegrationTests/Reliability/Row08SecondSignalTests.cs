using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;

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
        // A client that never reads keeps the drain waiting for the whole minute of --shutdown-timeout,
        // but only once the server holds replies its kernel buffers cannot take: until then a drain
        // writes everything into the socket and closes within the 2 s linger. So the signal waits for
        // the server's own word that a reply is waiting for its reader (not a moment when the client's
        // send buffer happens to be full, which a loaded machine reaches before the server stalls).
        await using var served = await ServedProcess.StartAsync(MatrixTransport.Tcp4, verbose: false,
            ["--shutdown-timeout", "60s", "--write-timeout", "10m", "--web", "http://127.0.0.1:0"]);
        var server = served.Process;
        var endpoint = Shout.Endpoints.ShoutEndpoint.Parse(served.Address);
        using var stuck = await RawClient.ConnectAsync(endpoint);
        stuck.ReceiveBufferSize = 4096;
        var flood = FloodAsync(stuck);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.TrueAsync(async () => flood.IsCompleted || await served.MetricAsync(http, "connections_write_waiting") >= 1,
            TimeSpan.FromSeconds(60), () => "the server never reported a reply waiting for the client that does not read");
        Assert.False(flood.IsCompleted, "the flood ended: the server closed the connection before the drain");
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
