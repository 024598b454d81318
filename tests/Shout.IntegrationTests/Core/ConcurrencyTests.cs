using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.Text;

namespace Shout.IntegrationTests.Core;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Five_hundred_clients_at_once_each_get_their_own_answers()
    {
        const int clients = 500;
        const int messages = 10;
        await using var server = await TestServer.StartAsync();
        var sockets = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => RawClient.ConnectAsync(server.Endpoint, TimeSpan.FromSeconds(30))));
        try
        {
            // Every client sends before any reads, then they take turns: messages interleave on the server.
            await Task.WhenAll(sockets.Select(async (socket, id) =>
            {
                for (var i = 0; i < messages; i++)
                {
                    var text = Encoding.UTF8.GetBytes($"client {id} message {i} ünïcödé ȿ ı;");
                    await socket.SendAsync(text);
                    var reply = await RawClient.ReadExactlyAsync(socket, ShoutCase.ToUpper(text).Length, TimeSpan.FromSeconds(60));
                    Assert.Equal(ShoutCase.ToUpper(text), reply);
                }

                socket.Shutdown(SocketShutdown.Send);
                Assert.Empty(await RawClient.ReadToEndAsync(socket, TimeSpan.FromSeconds(60)));
            }));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        await server.WaitForNoConnectionsAsync();
        Assert.Equal(clients, server.Metrics.AcceptedConnections);
    }
}
