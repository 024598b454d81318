using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Core;

public sealed class FaultTests
{
    [Fact]
    public async Task A_client_that_resets_mid_message_disturbs_no_one()
    {
        await using var server = await TestServer.StartAsync();
        using var survivor = await RawClient.ConnectAsync(server.Endpoint);
        await survivor.SendAsync("before "u8.ToArray());
        Assert.Equal("BEFORE "u8.ToArray(), await RawClient.ReadExactlyAsync(survivor, 7));

        for (var i = 0; i < 20; i++)
        {
            var victim = await RawClient.ConnectAsync(server.Endpoint);
            await victim.SendAsync(new byte[] { (byte)'x', 0xC8 }); // ends inside a character
            victim.LingerState = new LingerOption(true, 0);
            victim.Close(); // RST
        }

        await survivor.SendAsync("after"u8.ToArray());
        Assert.Equal("AFTER"u8.ToArray(), await RawClient.ReadExactlyAsync(survivor, 5));
        await Eventually.TrueAsync(() => server.Metrics.ActiveConnections == 1, TimeSpan.FromSeconds(15),
            () => $"{server.Metrics.ActiveConnections} open, expected only the survivor");
    }

    [Fact]
    public async Task A_client_that_never_reads_is_held_back_not_buffered_without_bound()
    {
        await using var server = await TestServer.StartAsync();
        using var hog = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveBufferSize = 4096,
            SendBufferSize = 64 * 1024,
        };
        using (var connect = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await hog.ConnectAsync(System.Net.IPAddress.Loopback, server.Endpoint.Port, connect.Token);
        }

        // Send until a write has not finished for 3 s: the server has stopped reading (backpressure).
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'a');
        long accepted = 0;
        const long ceiling = 256L * 1024 * 1024;
        while (accepted < ceiling)
        {
            using var stall = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try
            {
                accepted += await hog.SendAsync(chunk, SocketFlags.None, stall.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // Kestrel's 1 MiB read buffer + 64 KiB write buffer + the kernel's socket buffers on both sides.
        Assert.True(accepted < 32L * 1024 * 1024, $"the server accepted {accepted} bytes from a client that never reads");

        using var other = await RawClient.ConnectAsync(server.Endpoint);
        await other.SendAsync("still here"u8.ToArray());
        Assert.Equal("STILL HERE"u8.ToArray(), await RawClient.ReadExactlyAsync(other, 10));

        hog.LingerState = new LingerOption(true, 0);
        hog.Close();
        other.Shutdown(SocketShutdown.Send);
        await RawClient.ReadToEndAsync(other);
        await server.WaitForNoConnectionsAsync();
    }
}
