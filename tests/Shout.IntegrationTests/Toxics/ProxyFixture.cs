using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Shout.Toxics;

namespace Shout.IntegrationTests.Toxics;

/// <summary>An in-process <c>shout proxy</c> (API on loopback port 0, fixed seed) and helpers to reach it.</summary>
internal sealed class ProxyFixture : IAsyncDisposable
{
    private ProxyFixture(ToxicProxyServer server)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = new Uri(server.Api!.Address), Timeout = TimeSpan.FromSeconds(30) };
    }

    public ToxicProxyServer Server { get; }

    public HttpClient Http { get; }

    public static async Task<ProxyFixture> StartAsync() =>
        new(await ToxicProxyServer.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), seed: 7, l => l.SetMinimumLevel(LogLevel.Warning), CancellationToken.None));

    /// <summary>A proxy named <paramref name="name"/> on loopback port 0 to <paramref name="upstream"/>; its bound port.</summary>
    public int Add(string name, string upstream)
    {
        Assert.True(ProxyAddress.TryParse("127.0.0.1:0", out var listen, out _));
        Assert.True(ProxyAddress.TryParse(upstream, out var to, out var error), error);
        return Server.Proxies.Add(new ProxyInput(name, listen!, to!, true)).Listen.Endpoint.Port;
    }

    /// <summary>A udp proxy named <paramref name="name"/> on loopback port 0 to <paramref name="upstream"/> (udp://…); its bound port.</summary>
    public int AddUdp(string name, string upstream)
    {
        Assert.True(ProxyAddress.TryParse("udp://127.0.0.1:0", out var listen, out _));
        Assert.True(ProxyAddress.TryParse(upstream, out var to, out var error), error);
        return Server.Proxies.Add(new ProxyInput(name, listen!, to!, true)).Listen.Endpoint.Port;
    }

    public async Task<HttpResponseMessage> PostAsync(string path, string json) =>
        await Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public async Task AddToxicAsync(string proxy, string json)
    {
        using var response = await PostAsync($"/proxies/{proxy}/toxics", json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>A raw TCP upstream on loopback port 0 that runs a handler per connection (a sender, a sink, an echo).</summary>
internal sealed class RawUpstream : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Task _loop;

    public RawUpstream(Func<Socket, Task> handler)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _loop = Task.Run(async () =>
        {
            while (true)
            {
                Socket s;
                try
                {
                    s = await _listener.AcceptAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (s)
                    {
                        try
                        {
                            await handler(s);
                        }
                        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
                        {
                        }
                    }
                });
            }
        });
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop;
    }

    /// <summary>A handler that sends back what it receives, then FIN after the peer's.</summary>
    public static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[65536];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Reads until EOF; the bytes.</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var all = new MemoryStream();
        var buffer = new byte[65536];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }
}
