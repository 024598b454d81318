using System.Net.Sockets;
using System.Text;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 2: half-close after "hello" without a newline (<c>printf hello | nc -N</c>).</summary>
public sealed class Row02HalfCloseTests
{
    [Theory]
    [InlineData(ShoutTransport.Tcp, ShoutMode.Stream)]
    [InlineData(ShoutTransport.Tcp, ShoutMode.Line)]
    [InlineData(ShoutTransport.Unix, ShoutMode.Stream)]
    [InlineData(ShoutTransport.Unix, ShoutMode.Line)]
    public async Task Row02_half_close_after_hello_without_newline_gets_HELLO_then_close(ShoutTransport transport, ShoutMode mode)
    {
        var dir = Repo.TempDir();
        try
        {
            var listen = transport == ShoutTransport.Unix ? $"unix://{Path.Combine(dir, "s.sock")}" : "tcp://127.0.0.1:0";
            await using var server = await TestServer.StartAsync(o => o.Mode = mode, listen);
            using var socket = await RawClient.ConnectAsync(server.Endpoint);
            await socket.SendAsync("hello"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);

            Assert.Equal("HELLO", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
            await server.WaitForNoConnectionsAsync();
            Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.ClientClosed));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
