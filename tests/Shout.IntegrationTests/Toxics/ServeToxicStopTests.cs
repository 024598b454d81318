using System.Net.Sockets;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Toxics;

/// <summary><c>serve --toxic</c> stopping: what the toxics still hold of the server's last replies is delivered, then a FIN.</summary>
public sealed class ServeToxicStopTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_full_stop_lets_the_drain_notice_through_the_toxics_then_closes_with_a_FIN_not_a_reset()
    {
        // The latency holds the server's QUIT and FIN longer than the server waits for the client's
        // FIN (2 s), so the server has stopped while the proxy still holds them: they must still arrive.
        await using var serve = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--web", "none", "--mode", "line",
            "--toxic", "latency:downstream:latency=4000");
        var (publicPort, _) = await ServeToxicPorts.ReadAsync(serve, Timeout);
        using var client = await ProxyFixture.ConnectAsync(publicPort);
        await client.SendAsync("hi\n"u8.ToArray(), SocketFlags.None);
        var buffer = new byte[3];
        using (var cts = new CancellationTokenSource(Timeout))
        {
            var got = 0;
            while (got < 3)
            {
                got += await client.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, cts.Token);
            }
        }

        Assert.Equal("HI\n", System.Text.Encoding.ASCII.GetString(buffer));
        serve.Signal(15);
        var rest = await RawUpstream.ReadToEndAsync(client, Timeout); // a reset throws here
        Assert.Equal("QUIT\n", System.Text.Encoding.ASCII.GetString(rest));
        Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
    }
}
