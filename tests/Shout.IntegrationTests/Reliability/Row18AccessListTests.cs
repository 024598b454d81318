using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 18: allow and deny lists, IPv4 and IPv6, against real loopback clients.</summary>
public sealed class Row18AccessListTests
{
    [Theory]
    // No rules: everyone is served.
    [InlineData("", "", "127.0.0.1", true)]
    [InlineData("", "", "::1", true)]
    // Allow lists.
    [InlineData("127.0.0.0/8", "", "127.0.0.9", true)]
    [InlineData("127.0.0.0/8", "", "::1", false)]
    [InlineData("::1", "", "::1", true)]
    [InlineData("::1", "", "127.0.0.1", false)]
    [InlineData("127.0.0.1/32,::1/128", "", "127.0.0.2", false)]
    // Deny lists, and deny winning over allow.
    [InlineData("", "127.0.0.3", "127.0.0.3", false)]
    [InlineData("", "127.0.0.3", "127.0.0.4", true)]
    [InlineData("", "::1/128", "::1", false)]
    [InlineData("127.0.0.0/8", "127.0.0.0/30", "127.0.0.2", false)]
    [InlineData("127.0.0.0/8", "127.0.0.0/30", "127.0.0.4", true)]
    [InlineData("::/0", "::1", "::1", false)]
    public async Task Row18_allow_deny_table_deny_wins_and_a_denied_client_is_closed_before_any_read(
        string allow, string deny, string client, bool served)
    {
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Access = AccessList.Create(Split(allow), Split(deny));
            o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
            o.Listen.Add(ShoutEndpoint.Parse("tcp://[::1]:0"));
        }, logs: logs);
        var from = IPAddress.Parse(client);
        var endpoint = server.Server.Endpoints.First(e => IPAddress.Parse(e.Host).AddressFamily == from.AddressFamily);

        using var socket = await RawClient.ConnectFromAsync(endpoint, from);
        try
        {
            await socket.SendAsync("let me in\n"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // A denied client may already be closed when it sends.
        }

        var reply = await ReadUntilClosedAsync(socket);
        await server.WaitForNoConnectionsAsync();
        if (served)
        {
            Assert.Equal("LET ME IN\n", Encoding.ASCII.GetString(reply));
            Assert.Equal(0, server.Metrics.ClosedFor(CloseReason.Denied));
        }
        else
        {
            // Nothing it sent was read, so nothing is answered; the refusal is counted and logged at Debug.
            Assert.Empty(reply);
            Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.Denied));
            Assert.Equal(0, server.Metrics.ActiveConnections);
            Assert.Contains(logs.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("denied", StringComparison.Ordinal));
        }

        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }

    private static async Task<byte[]> ReadUntilClosedAsync(Socket socket)
    {
        try
        {
            return await RawClient.ReadToEndAsync(socket);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Closing on unread input resets the connection: still nothing answered.
            return [];
        }
    }

    private static string[] Split(string rules) => rules.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
