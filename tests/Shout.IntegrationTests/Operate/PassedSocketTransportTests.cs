using System.Net.Sockets;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Transports.Epoll;
using Shout.Transports.Systemd;
using Shout.Transports;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// A listening socket passed by systemd (or a handover) is served by the configured stream transport,
/// epoll included, and released to its holder at stop. The holder here is this test: it keeps its own
/// descriptor of the listener, as systemd does, and passes the server a duplicate.
/// </summary>
public sealed class PassedSocketTransportTests
{
    [Theory]
    [InlineData(StreamTransport.Epoll)]
    [InlineData(StreamTransport.Sockets)]
    public async Task A_passed_tcp_listener_is_served_by_the_chosen_transport_and_released_to_its_holder(StreamTransport transport)
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen(64);
        var endpoint = ShoutEndpoint.For(ShoutTransport.Tcp, (IPEndPoint)holder.LocalEndPoint!);

        await using (var first = await StartAsync(transport, holder, endpoint))
        {
            Assert.Equal("SERVED", await ExchangeAsync(endpoint, "served"));
            var epoll = first.Services.GetServices<IConnectionListenerFactory>().OfType<EpollTransportFactory>().SingleOrDefault();
            if (transport == StreamTransport.Epoll)
            {
                Assert.NotNull(epoll);
                Assert.Equal(1, epoll.Accepted);
            }
            else
            {
                Assert.Null(epoll);
            }

            Assert.Equal(1, first.Metrics.AcceptedConnections);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await first.StopAsync(stop.Token);
        }

        // Released, not closed: a client connecting now waits in the holder's queue for the next instance.
        using var waiting = await RawClient.ConnectAsync(endpoint);
        await waiting.SendAsync("queued"u8.ToArray());
        waiting.Shutdown(SocketShutdown.Send);
        await using var next = await StartAsync(transport, holder, endpoint);
        Assert.Equal("QUEUED", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(waiting)));
        using var stopNext = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await next.StopAsync(stopNext.Token);
    }

    [Theory]
    [InlineData(StreamTransport.Epoll)]
    [InlineData(StreamTransport.Sockets)]
    public async Task A_passed_unix_listener_is_served_by_the_chosen_transport(StreamTransport transport)
    {
        var dir = Repo.TempDir();
        try
        {
            var path = Path.Combine(dir, "passed.sock");
            using var holder = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            holder.Bind(new UnixDomainSocketEndPoint(path));
            holder.Listen(64);
            var endpoint = ShoutEndpoint.ForUnix(path);

            await using var server = await StartAsync(transport, holder, endpoint);
            Assert.Equal("OVER UNIX", await ExchangeAsync(endpoint, "over unix"));
            var epoll = server.Services.GetServices<IConnectionListenerFactory>().OfType<EpollTransportFactory>().SingleOrDefault();
            Assert.Equal(transport == StreamTransport.Epoll ? 1 : 0, epoll?.Accepted ?? 0);
            Assert.Equal(1, server.Metrics.AcceptedConnections);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await server.StopAsync(stop.Token);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A server given a duplicate of <paramref name="holder"/>'s descriptor, as systemd passes one.</summary>
    private static async Task<ShoutServer> StartAsync(StreamTransport transport, Socket holder, ShoutEndpoint endpoint)
    {
        var fd = Native.Dup((int)holder.Handle);
        Assert.True(fd >= 0, $"dup failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        var passed = new InheritedSocket(fd, "", endpoint, new Socket(new SafeSocketHandle(fd, ownsHandle: true)));
        var options = new ShoutServerOptions { Transport = transport, Systemd = true, ShutdownTimeout = TimeSpan.FromSeconds(5) };
        var server = ShoutServer.Create(options, configureLogging: null, configureServices: null, passed: [passed]);
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await server.StartAsync(start.Token);
        return server;
    }

    private static async Task<string> ExchangeAsync(ShoutEndpoint endpoint, string text)
    {
        using var socket = await RawClient.ConnectAsync(endpoint);
        await socket.SendAsync(Encoding.UTF8.GetBytes(text));
        socket.Shutdown(SocketShutdown.Send);
        return Encoding.UTF8.GetString(await RawClient.ReadToEndAsync(socket));
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "dup", SetLastError = true)]
        public static extern int Dup(int fd);
    }
}
