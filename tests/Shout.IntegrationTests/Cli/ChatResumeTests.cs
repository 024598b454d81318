using System.Net;
using System.Text.RegularExpressions;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Rooms;
using Shout.IntegrationTests.Toxics;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Issue 24: <c>shout chat</c> in a room survives a dropped connection. The chat talks through a
/// <c>shout proxy</c> that is disabled (every connection reset, new ones refused) while another
/// member talks, then enabled again: the chat dials again, takes its nickname back, resumes, and
/// shows each missed line once, numbered, and nothing it had shown before.
/// </summary>
public sealed class ChatResumeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_dropped_chat_comes_back_with_every_missed_line_once_and_its_nickname()
    {
        await using var server = await TestServer.StartAsync(o => o.Mode = ShoutMode.Room);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("chat", $"127.0.0.1:{server.Endpoint.Port}");
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        await using var chat = ProcessHarness.StartShout("chat", "-a", $"tcp://127.0.0.1:{port}");

        await SayAsync(chat, "/nick alice");
        await chat.WaitForLineAsync("OK nick alice", Timeout);
        await SayAsync(chat, "hi");
        await chat.WaitForLineAsync("HI", Timeout);
        await bob.ReadUntilAsync("alice: HI");
        await bob.SendAsync("before the drop");
        await chat.WaitForLineAsync("bob: BEFORE THE DROP", Timeout);

        using (var disabled = await proxy.PostAsync("/proxies/chat", """{"enabled":false}"""))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        await chat.WaitForLineAsync("connection lost; reconnecting to resume lobby", Timeout, stderr: true);
        await bob.ReadUntilAsync("* alice left lobby");
        await bob.SendAsync("missed one");
        await bob.SendAsync("missed two");
        await bob.ReadUntilAsync("MISSED TWO");
        using (var enabled = await proxy.PostAsync("/proxies/chat", """{"enabled":true}"""))
        {
            Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        }

        await chat.WaitForLineAsync("resumed in lobby", Timeout, stderr: true);
        await chat.WaitForLineAsync("bob: MISSED TWO", Timeout);
        await SayAsync(chat, "back");
        Assert.Equal("alice: BACK", await bob.ReadUntilAsync(l => l.StartsWith("alice", StringComparison.Ordinal)));
        await SayAsync(chat, "quit");
        Assert.Equal(0, await chat.WaitForExitAsync(Timeout));

        // Each line once: what was shown before the drop is not shown again, and the missed lines come numbered.
        var shown = chat.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(shown, l => l == "HI");
        Assert.Single(shown, l => l.EndsWith("bob: BEFORE THE DROP", StringComparison.Ordinal));
        var one = Assert.Single(shown, l => l.EndsWith("bob: MISSED ONE", StringComparison.Ordinal));
        var two = Assert.Single(shown, l => l.EndsWith("bob: MISSED TWO", StringComparison.Ordinal));
        Assert.Equal(Number(one) + 1, Number(two));
        Assert.DoesNotContain(shown, l => l.StartsWith("* you are", StringComparison.Ordinal) && l.Contains("alice", StringComparison.Ordinal));
        Assert.Single(shown, l => l.StartsWith("* you are", StringComparison.Ordinal));
        Assert.Single(shown, l => l == "BACK");
    }

    private static async Task SayAsync(ProcessHarness chat, string line)
    {
        await chat.Stdin.WriteLineAsync(line);
        await chat.Stdin.FlushAsync();
    }

    private static long Number(string line) =>
        long.Parse(Regex.Match(line, @"^\* \[(\d+)\] ").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
