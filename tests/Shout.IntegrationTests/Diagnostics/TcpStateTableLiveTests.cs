using System.Net;
using System.Net.Sockets;
using Shout.Diagnostics;

namespace Shout.IntegrationTests.Diagnostics;

/// <summary>The parser against this machine's real kernel table.</summary>
public sealed class TcpStateTableLiveTests
{
    [Fact]
    public void Reads_this_machines_table_and_finds_a_listener_it_opened()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var entries = TcpStateTable.Read([port]);
        Assert.Contains(entries, e => e.State == TcpState.Listen && e.Local.Port == port && e.Local.Address.Equals(IPAddress.Loopback));
    }

    [Fact]
    public async Task Sees_the_side_that_closed_first_in_TIME_WAIT()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        using var accepted = await listener.AcceptTcpClientAsync();
        var clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;

        // The client closes first, then the server: the client's end waits out 2MSL in TIME_WAIT.
        client.Client.Shutdown(SocketShutdown.Both);
        client.Close();
        Assert.Equal(0, await accepted.GetStream().ReadAsync(new byte[1]));
        accepted.Close();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        IReadOnlyList<TcpSocketEntry> entries;
        do
        {
            entries = TcpStateTable.Read([port]);
            if (entries.Any(e => e.Local.Port == clientPort && e.State == TcpState.TimeWait))
            {
                return;
            }

            await Task.Delay(20);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail("no TIME_WAIT on the client's end: " + string.Join(", ", entries));
    }
}
