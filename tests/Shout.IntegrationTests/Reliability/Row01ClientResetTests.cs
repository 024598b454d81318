using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 1: a client resets (RST) mid-message.</summary>
public sealed class Row01ClientResetTests
{
    [Fact]
    public async Task Row01_client_reset_mid_message_frees_its_slot_quietly_and_others_are_unaffected()
    {
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Line, logs: logs);

        var clients = Enumerable.Range(0, 100).Select(i => i % 2 == 0 ? ResetAsync(server, i) : SurviveAsync(server, i));
        await Task.WhenAll(clients);

        await server.WaitForNoConnectionsAsync();
        Assert.Equal(100, server.Metrics.AcceptedConnections);
        Assert.Equal(50, server.Metrics.ClosedFor(CloseReason.Reset));
        Assert.Equal(50, server.Metrics.ClosedFor(CloseReason.ClientClosed));
        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }

    [Fact]
    public async Task Row01_client_reset_while_the_server_closes_frees_the_slot_at_once()
    {
        // The server's graceful close waits for the client to acknowledge the replies; a client that
        // resets instead must not hold its slot until the (long) write timeout, nor log an error.
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Line;
            o.WriteTimeout = TimeSpan.FromMinutes(10);
        }, logs: logs);
        for (var i = 0; i < 20; i++)
        {
            using var socket = await RawClient.ConnectAsync(server.Endpoint);
            socket.ReceiveBufferSize = 4096;
            await socket.SendAsync(Encoding.ASCII.GetBytes(i % 2 == 0 ? new string('a', 200_000) + "\n" : "one\ntwo\nquit\nmore"));
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }

        await server.WaitForNoConnectionsAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }

    /// <summary>Sends half a line, then closes with linger 0: the kernel sends RST, not FIN.</summary>
    private static async Task ResetAsync(TestServer server, int i)
    {
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"client {i} was in the middle of"));
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    private static async Task SurviveAsync(TestServer server, int i)
    {
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        var message = $"client {i} says hello\nand goodbye\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(message));
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(message.ToUpperInvariant(), Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
    }
}
