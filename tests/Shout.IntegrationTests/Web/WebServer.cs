using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;
using Shout.Web;

namespace Shout.IntegrationTests.Web;

/// <summary>A test server with its web endpoint on loopback port 0, and clients for it.</summary>
internal static class WebServer
{
    public static Task<TestServer> StartAsync(Action<ShoutWebOptions>? configure = null) =>
        StartServerAsync(o => configure?.Invoke(o.Web));

    /// <summary>A server with its web endpoint, configured as a whole (the session rules are the server's).</summary>
    public static Task<TestServer> StartServerAsync(Action<Shout.Hosting.ShoutServerOptions> configure) =>
        TestServer.StartAsync(o =>
        {
            o.Web.Address = new Uri("http://127.0.0.1:0");
            configure(o);
        });

    public static Uri Web(this TestServer server) => server.Server.WebAddress ?? throw new InvalidOperationException("no web endpoint");

    public static Uri WebSocketUri(this TestServer server) => new UriBuilder(server.Web()) { Scheme = "ws", Path = "/ws" }.Uri;

    public static HttpClient Http(this TestServer server) => new() { BaseAddress = server.Web(), Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<ClientWebSocket> ConnectWebSocketAsync(this TestServer server)
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(server.WebSocketUri(), timeout.Token);
        return socket;
    }

    /// <summary>Receives one whole message (joining fragments), with a deadline.</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(this WebSocket socket, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var output = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cts.Token);
            output.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, output.ToArray());
            }
        }
    }

    public static async Task<string> ReceiveTextAsync(this WebSocket socket)
    {
        var (type, data) = await socket.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(data);
    }

    /// <summary>Reads server-sent events from <c>/live</c> until one satisfies <paramref name="match"/>.</summary>
    public static async Task<string> WaitForLiveFrameAsync(this TestServer server, Func<string, bool> match, TimeSpan timeout)
    {
        using var http = server.Http();
        using var cts = new CancellationTokenSource(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/live");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var seen = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(cts.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"sample\"", StringComparison.Ordinal))
                {
                    var data = line["data: ".Length..];
                    seen.Add(data);
                    if (match(data))
                    {
                        return data;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Fail($"no matching live frame within {timeout.TotalSeconds:0} s; last: {seen.LastOrDefault() ?? "(none)"}");
        return "";
    }
}
