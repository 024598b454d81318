using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;
using Shout.Transports.Epoll;
using Shout.Transports;

namespace Shout.IntegrationTests.Transports;

/// <summary>A whole Shout server on <see cref="StreamTransport.Epoll"/>: the handler, the web endpoint and the drain on it.</summary>
public sealed class EpollServerTests
{
    [Fact]
    public async Task Shout_on_epoll_answers_TCP_Unix_and_HTTP_and_the_drain_closes_an_idle_connection()
    {
        var dir = Repo.TempDir();
        try
        {
            var unix = Path.Combine(dir, "s.sock");
            await using var server = await TestServer.StartAsync(o =>
            {
                o.Transport = StreamTransport.Epoll;
                o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
                o.Listen.Add(ShoutEndpoint.Parse($"unix://{unix}"));
                o.Web.Address = new Uri("http://127.0.0.1:0");
            });
            var factory = server.Server.Services.GetServices<IConnectionListenerFactory>().OfType<EpollTransportFactory>().Single();

            foreach (var endpoint in server.Server.Endpoints)
            {
                using var socket = await RawClient.ConnectAsync(endpoint);
                await socket.SendAsync("hello world\n"u8.ToArray());
                socket.Shutdown(SocketShutdown.Send);
                Assert.Equal("HELLO WORLD\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
            }

            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) })
            {
                var health = await http.GetAsync(new Uri(server.Server.WebAddress!, "/healthz"));
                Assert.True(health.IsSuccessStatusCode, $"/healthz answered {health.StatusCode}");
            }

            Assert.True(factory.Accepted >= 3, $"the epoll transport accepted {factory.Accepted} connections");
            using var idle = await RawClient.ConnectAsync(server.Endpoint);
            await Eventually.TrueAsync(() => server.Metrics.ActiveStreamConnections == 1, TimeSpan.FromSeconds(15),
                () => $"{server.Metrics.ActiveStreamConnections} stream connections open");
            var stop = server.Server.StopAsync();
            Assert.Empty(await RawClient.ReadToEndAsync(idle));
            await stop.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.ServerDrain));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("epoll")]
    [InlineData("sockets")]
    public async Task Serve_with_either_transport_answers(string transport)
    {
        await using var server = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0", "--transport", transport);
        var endpoint = await server.WaitForTcpListeningAsync();
        using var socket = await RawClient.ConnectAsync(endpoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"over {transport}\n"));
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal($"OVER {transport.ToUpperInvariant()}\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
        Assert.Equal(transport == "epoll", EpollThreads.Count(server.Id) > 0);
    }

    [Fact]
    public async Task Serve_without_a_transport_flag_runs_on_epoll_unless_SHOUT_TRANSPORT_names_one()
    {
        // Spawned servers inherit SHOUT_TRANSPORT: the second CI pass (scripts/test) runs them on sockets.
        var variable = Environment.GetEnvironmentVariable(ShoutServerOptions.TransportVariable);
        var expected = variable is null ? StreamTransport.Epoll : ShoutServerOptions.ParseTransport(variable, out _);
        await using var server = ProcessHarness.StartShout("serve", "-l", "tcp://127.0.0.1:0");
        var endpoint = await server.WaitForTcpListeningAsync();
        using var socket = await RawClient.ConnectAsync(endpoint);
        await socket.SendAsync("no flag\n"u8.ToArray());
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("NO FLAG\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
        Assert.Equal(expected == StreamTransport.Epoll, EpollThreads.Count(server.Id) > 0);
    }

    [Fact]
    public async Task Options_that_name_no_transport_serve_on_epoll_on_Linux_unless_SHOUT_TRANSPORT_names_one()
    {
        // The second CI pass sets SHOUT_TRANSPORT=sockets; without it, the default is what is tested.
        var variable = Environment.GetEnvironmentVariable(ShoutServerOptions.TransportVariable);
        var expected = variable is null ? StreamTransport.Epoll : ShoutServerOptions.ParseTransport(variable, out _);
        Assert.Equal(expected, new ShoutServerOptions().Transport);

        await using var server = await TestServer.StartAsync();
        using (var socket = await RawClient.ConnectAsync(server.Endpoint))
        {
            await socket.SendAsync("default\n"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("DEFAULT\n", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket)));
        }

        var epoll = server.Server.Services.GetServices<IConnectionListenerFactory>().OfType<EpollTransportFactory>().SingleOrDefault();
        Assert.Equal(expected == StreamTransport.Epoll ? 1 : 0, epoll?.Accepted ?? 0);
    }

    [Theory]
    [InlineData(null, "--transport: 'uring' is not a transport: use sockets or epoll")]
    [InlineData("uring", "'uring' is not a transport: use sockets or epoll")]
    public async Task Serve_refuses_a_bad_transport_in_one_line(string? variable, string expected)
    {
        string[] args = variable is null ? ["serve", "-l", "tcp://127.0.0.1:0", "--transport", "uring"] : ["serve", "-l", "tcp://127.0.0.1:0"];
        var result = await CliRunner.ShoutAsync(args, timeout: TimeSpan.FromSeconds(60),
            environment: variable is null ? null : new Dictionary<string, string> { [ShoutServerOptions.TransportVariable] = variable });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("epoll", StreamTransport.Epoll)]
    [InlineData("Sockets", StreamTransport.Sockets)]
    public void Transport_names_parse(string text, StreamTransport expected)
    {
        Assert.Equal(expected, ShoutServerOptions.ParseTransport(text, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("io_uring")]
    [InlineData("1")]
    [InlineData("")]
    public void A_bad_transport_name_is_one_line_that_says_what_is_allowed(string text)
    {
        Assert.Null(ShoutServerOptions.ParseTransport(text, out var error));
        Assert.Equal($"'{text}' is not a transport: use sockets or epoll", error);
    }
}
