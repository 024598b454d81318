using System.Net;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.IntegrationTests.Rooms;
using Shout.IntegrationTests.Toxics;
using Shout.IntegrationTests.Web;
using Shout.Toxics;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// Issue 24: <c>shout chat</c>'s resume after a drop on every transport it speaks (tcp is
/// <see cref="ChatResumeTests"/>; udp has no connection to drop: docs/reliability.md row 35), and
/// the two answers that are not a plain resume: lines older than the history (one <c>* [lost N]</c>
/// line, then the rest) and a refused resume (another server: one status line, the room joined
/// again with its history). The chat talks through a <c>shout proxy</c> that is disabled (every
/// connection reset, new ones refused) while another member talks, then enabled again.
/// </summary>
public sealed class ChatResumeTransportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("tcp6")]
    [InlineData("tls")]
    [InlineData("unix")]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task A_dropped_chat_comes_back_with_every_missed_line_once_on(string name)
    {
        var transport = MatrixTransport.Named(name);
        await using var server = await StartAsync(transport);
        await using var proxy = await ProxyFixture.StartAsync();
        var address = ChatAddress(transport, server, proxy);
        await using var bob = await RoomClient.JoinAsync(server.EndpointOf(ShoutTransport.Tcp), "bob");
        await using var chat = ProcessHarness.StartShout(["chat", "-a", address, .. transport.IsTls ? new[] { "-k" } : []]);

        await SayAsync(chat, "/nick alice");
        await chat.WaitForLineAsync("OK nick alice", Timeout);
        await SayAsync(chat, "hi");
        await bob.ReadUntilAsync("alice: HI");
        await bob.SendAsync("before the drop");
        await chat.WaitForLineAsync("bob: BEFORE THE DROP", Timeout);

        await MissTwoLinesAsync(proxy, chat, bob);
        await SetEnabledAsync(proxy, true);

        await chat.WaitForLineAsync("resumed in lobby", Timeout, stderr: true);
        await chat.WaitForLineAsync("bob: MISSED TWO", Timeout);
        await SayAsync(chat, "back");
        Assert.Equal("alice: BACK", await bob.ReadUntilAsync(l => l.StartsWith("alice", StringComparison.Ordinal)));
        await SayAsync(chat, "quit");
        await ExpectCleanExitAsync(chat);

        var shown = chat.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(shown, l => l == "HI");
        Assert.Single(shown, l => l.EndsWith("bob: BEFORE THE DROP", StringComparison.Ordinal));
        var one = Assert.Single(shown, l => l.EndsWith("bob: MISSED ONE", StringComparison.Ordinal));
        var two = Assert.Single(shown, l => l.EndsWith("bob: MISSED TWO", StringComparison.Ordinal));
        Assert.Equal(Number(one) + 1, Number(two));
        Assert.Single(shown, l => l.StartsWith("* you are", StringComparison.Ordinal));
        Assert.Single(shown, l => l == "BACK");
    }

    [Fact]
    public async Task Lines_older_than_the_history_are_one_lost_line_and_the_rest_come_once()
    {
        await using var server = await StartAsync(MatrixTransport.Tcp4, o => o.Rooms.History = 2);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("chat", $"127.0.0.1:{server.Endpoint.Port}");
        await using var bob = await RoomClient.JoinAsync(server.Endpoint, "bob");
        await using var chat = ProcessHarness.StartShout("chat", "-a", $"tcp://127.0.0.1:{port}");
        await SayAsync(chat, "/nick alice");
        await chat.WaitForLineAsync("OK nick alice", Timeout);
        await bob.SendAsync("before the drop");
        await chat.WaitForLineAsync("bob: BEFORE THE DROP", Timeout);

        await SetEnabledAsync(proxy, false);
        await chat.WaitForLineAsync("connection lost; reconnecting to resume lobby", Timeout, stderr: true);
        await bob.ReadUntilAsync("* alice left lobby");
        foreach (var line in new[] { "gone one", "gone two", "kept one", "kept two" })
        {
            await bob.SendAsync(line);
        }

        await bob.ReadUntilAsync("KEPT TWO");
        await SetEnabledAsync(proxy, true);
        await chat.WaitForLineAsync("resumed in lobby", Timeout, stderr: true);
        await chat.WaitForLineAsync("bob: KEPT TWO", Timeout);
        await SayAsync(chat, "quit");
        await ExpectCleanExitAsync(chat);

        var shown = chat.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(shown, l => l == "* [lost 2] lines of lobby are older than its history");
        Assert.DoesNotContain(shown, l => l.Contains("GONE", StringComparison.Ordinal));
        Assert.Single(shown, l => l.EndsWith("bob: KEPT ONE", StringComparison.Ordinal));
        Assert.Single(shown, l => l.EndsWith("bob: KEPT TWO", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("tcp4")]
    [InlineData("ws")]
    public async Task With_shared_offsets_a_dropped_chat_resumes_on_another_instance_with_every_missed_line_once_on(string name)
    {
        // Two instances behind one address (the proxy): the chat's connection to the first is cut and
        // the address moved to the second, as a balancer does when an instance goes.
        var transport = MatrixTransport.Named(name);
        await using var nats = await NatsServer.StartAsync(["-js"]);
        void Shared(ShoutServerOptions o)
        {
            o.Rooms.Bus.Address = Shout.Rooms.BusAddress.FromServer(nats.Url);
            o.Rooms.Bus.ExactlyOnce = true;
            o.Rooms.Bus.SharedOffsets = true;
        }

        await using var first = await StartAsync(transport, Shared);
        await using var second = await StartAsync(transport, Shared);
        foreach (var server in new[] { first, second })
        {
            await RoomSharedOffsetsTests.Bus(server).Ready.WaitAsync(Timeout);
        }

        await using var proxy = await ProxyFixture.StartAsync();
        var address = ChatAddress(transport, first, proxy);
        await using var bob = await RoomClient.JoinAsync(second.EndpointOf(ShoutTransport.Tcp), "bob");
        await using var chat = ProcessHarness.StartShout("chat", "-a", address);
        await SayAsync(chat, "/nick alice");
        await chat.WaitForLineAsync("OK nick alice", Timeout);
        await bob.SendAsync("before the drop");
        await chat.WaitForLineAsync("bob: BEFORE THE DROP", Timeout);

        await MissTwoLinesAsync(proxy, chat, bob);
        var upstream = transport.IsWebSocket ? second.Web().Port : second.Endpoint.Port;
        using (var moved = await proxy.PostAsync("/proxies/chat", $$"""{"upstream":"127.0.0.1:{{upstream}}","enabled":true}"""))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        await chat.WaitForLineAsync("resumed in lobby", Timeout, stderr: true);
        await chat.WaitForLineAsync("bob: MISSED TWO", Timeout);
        await SayAsync(chat, "back");
        Assert.Equal("alice: BACK", await bob.ReadUntilAsync(l => l.StartsWith("alice", StringComparison.Ordinal)));
        await chat.WaitForLineAsync("BACK", Timeout);
        await SayAsync(chat, "quit");
        await ExpectCleanExitAsync(chat);

        var shown = chat.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(shown, l => l.EndsWith("bob: BEFORE THE DROP", StringComparison.Ordinal));
        var one = Assert.Single(shown, l => l.EndsWith("bob: MISSED ONE", StringComparison.Ordinal));
        var two = Assert.Single(shown, l => l.EndsWith("bob: MISSED TWO", StringComparison.Ordinal));
        Assert.Equal(Number(one) + 1, Number(two));
        Assert.DoesNotContain(chat.Stderr.Split('\n'), l => l.Contains("could not resume", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_resume_is_one_status_line_and_the_room_is_joined_again_with_its_history()
    {
        await using var first = await StartAsync(MatrixTransport.Tcp4);
        await using var second = await StartAsync(MatrixTransport.Tcp4);
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("chat", $"127.0.0.1:{first.Endpoint.Port}");
        await using var bob = await RoomClient.JoinAsync(first.Endpoint, "bob");
        await using var carol = await RoomClient.JoinAsync(second.Endpoint, "carol");
        await carol.SendAsync("on the second");
        await carol.ReadUntilAsync("ON THE SECOND");
        await using var chat = ProcessHarness.StartShout("chat", "-a", $"tcp://127.0.0.1:{port}");
        await SayAsync(chat, "/nick alice");
        await chat.WaitForLineAsync("OK nick alice", Timeout);
        await bob.SendAsync("on the first");
        await chat.WaitForLineAsync("bob: ON THE FIRST", Timeout);

        // It comes back to another server (a restart, another instance): its epoch means nothing there.
        await SetEnabledAsync(proxy, false);
        await chat.WaitForLineAsync("connection lost; reconnecting to resume lobby", Timeout, stderr: true);
        using (var moved = await proxy.PostAsync("/proxies/chat", $$"""{"upstream":"127.0.0.1:{{second.Endpoint.Port}}","enabled":true}"""))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        await chat.WaitForLineAsync("joining lobby again", Timeout, stderr: true);
        await chat.WaitForLineAsync("* [1] carol: ON THE SECOND", Timeout);
        Assert.EndsWith(" is now alice", await carol.ReadUntilAsync(l => l.Contains(" is now ", StringComparison.Ordinal)), StringComparison.Ordinal);
        await carol.SendAsync("welcome");
        await chat.WaitForLineAsync("carol: WELCOME", Timeout);
        await SayAsync(chat, "thanks");
        Assert.Equal("alice: THANKS", await carol.ReadUntilAsync(l => l.StartsWith("alice", StringComparison.Ordinal)));
        await SayAsync(chat, "quit");
        await ExpectCleanExitAsync(chat);

        var status = chat.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var refused = Assert.Single(status, l => l.Contains("could not resume", StringComparison.Ordinal));
        Assert.Matches(@"could not resume \(resume: epoch [a-z2-9]{8} is not the one of lobby here; /join lobby\); joining lobby again$", refused);
        Assert.DoesNotContain(status, l => l.Contains("resumed in", StringComparison.Ordinal));
    }

    private static Task<TestServer> StartAsync(MatrixTransport transport, Action<ShoutServerOptions>? configure = null) =>
        transport.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            if (transport.Name != "tcp4")
            {
                o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));   // for the other member
            }

            configure?.Invoke(o);
        });

    /// <summary>A proxy named <c>chat</c> in front of the transport's endpoint; the address chat dials through it.</summary>
    private static string ChatAddress(MatrixTransport transport, TestServer server, ProxyFixture proxy)
    {
        if (transport.Name == "unix")
        {
            var path = Path.Combine(Repo.TempDir(), "proxy.sock");
            Assert.True(ProxyAddress.TryParse("unix://" + path, out var listen, out _));
            Assert.True(ProxyAddress.TryParse("unix://" + server.EndpointOf(ShoutTransport.Unix).Path, out var to, out var error), error);
            proxy.Server.Proxies.Add(new ProxyInput("chat", listen!, to!, true));
            return "unix://" + path;
        }

        if (transport.Name == "tcp6")
        {
            Assert.True(ProxyAddress.TryParse("tcp://[::1]:0", out var listen, out _));
            Assert.True(ProxyAddress.TryParse($"tcp://[::1]:{server.Endpoint.Port}", out var to, out var error), error);
            return $"tcp://[::1]:{proxy.Server.Proxies.Add(new ProxyInput("chat", listen!, to!, true)).Listen.Endpoint.Port}";
        }

        // TCP, TLS and WebSocket bytes pass through a tcp proxy as they are.
        var upstream = transport.IsWebSocket ? server.Web().Port : server.Endpoint.Port;
        var port = proxy.Add("chat", $"127.0.0.1:{upstream}");
        return transport.Name switch
        {
            "ws" => $"ws://127.0.0.1:{port}/ws",
            "wss" => $"wss://127.0.0.1:{port}/ws",
            "tcp4" => $"tcp://127.0.0.1:{port}",
            _ => $"tls://127.0.0.1:{port}",
        };
    }

    /// <summary>Cuts the chat off (the proxy disabled) and has bob say two lines it misses.</summary>
    private static async Task MissTwoLinesAsync(ProxyFixture proxy, ProcessHarness chat, RoomClient bob)
    {
        await SetEnabledAsync(proxy, false);
        await chat.WaitForLineAsync("connection lost; reconnecting to resume lobby", Timeout, stderr: true);
        await bob.ReadUntilAsync("* alice left lobby");
        await bob.SendAsync("missed one");
        await bob.SendAsync("missed two");
        await bob.ReadUntilAsync("MISSED TWO");
    }

    private static async Task SetEnabledAsync(ProxyFixture proxy, bool enabled)
    {
        using var response = await proxy.PostAsync("/proxies/chat", enabled ? """{"enabled":true}""" : """{"enabled":false}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>After <c>quit</c>: exit code 0, or the failure names what the chat said on stderr.</summary>
    private static async Task ExpectCleanExitAsync(ProcessHarness chat)
    {
        var code = await chat.WaitForExitAsync(Timeout);
        Assert.True(code == 0, $"chat exited with {code}; its stderr:\n{chat.Stderr}");
    }

    private static async Task SayAsync(ProcessHarness chat, string line)
    {
        await chat.Stdin.WriteLineAsync(line);
        await chat.Stdin.FlushAsync();
    }

    private static long Number(string line) =>
        long.Parse(Regex.Match(line, @"^\* \[(\d+)\] ").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
