using System.Net.Sockets;
using System.Text.Json;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>serve's log: one close line that says everything, short categories, JSON for machines.</summary>
public sealed class ServeLogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_close_line_names_peer_transport_reason_bytes_and_duration()
    {
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "-v");
        var endpoint = await server.WaitForTcpListeningAsync();
        var local = await SendAsync(endpoint, "hello");

        var line = await server.WaitForLineAsync($"tcp from 127.0.0.1:{local}", Timeout);
        Assert.Matches(@"dbug \[connection\] \S+ closed by client \(client_closed\): 5 bytes in, 5 bytes out, \d+\.\d ms; tcp from 127\.0\.0\.1:\d+", line);
        Assert.Contains("info [server] Shout listening on tcp://127.0.0.1:", server.Stdout, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\w\[\d+\]", server.Stdout);
    }

    [Fact]
    public async Task Json_log_format_writes_one_object_per_line()
    {
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "-v", "--log-format", "json");
        var endpoint = await server.WaitForTcpListeningAsync();
        var local = await SendAsync(endpoint, "hi");
        await server.WaitForOutputAsync(o => o.Split('\n').Any(l => l.Contains("closed by", StringComparison.Ordinal)
            && l.Contains($"127.0.0.1:{local}", StringComparison.Ordinal)), Timeout);

        var lines = server.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        JsonElement? closed = null;
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            Assert.True(root.TryGetProperty("Category", out _), line);
            if (root.GetProperty("Message").GetString()!.Contains("closed by", StringComparison.Ordinal))
            {
                closed = root.GetProperty("State").Clone();
            }
        }

        Assert.NotNull(closed);
        Assert.Equal("tcp", closed.Value.GetProperty("Transport").GetString());
        Assert.Equal($"127.0.0.1:{local}", closed.Value.GetProperty("Remote").GetString());
        Assert.Equal("client_closed", closed.Value.GetProperty("Reason").GetString());
    }

    [Fact]
    public async Task The_self_signed_certificate_is_described_once()
    {
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tls://127.0.0.1:0", "--listen", "tcp://127.0.0.1:0");
        var line = await server.WaitForLineAsync("TLS certificate", Timeout);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(line, "self-signed"));
    }

    private static async Task<int> SendAsync(Shout.Endpoints.ShoutEndpoint endpoint, string text)
    {
        using var socket = await RawClient.ConnectAsync(endpoint);
        var local = ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(text));
        socket.Shutdown(SocketShutdown.Send);
        await RawClient.ReadToEndAsync(socket);
        return local;
    }
}
