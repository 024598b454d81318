using System.Text.Json;
using Shout.Client;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;
using Shout.Load;

namespace Shout.IntegrationTests.WebSocketClient;

/// <summary>
/// <c>send</c>, <c>chat</c> and <c>bench</c> over <c>ws://</c> and <c>wss://</c>, against Shout's
/// <c>/ws</c> and the npm ws package's server: the message semantics of docs/transports.md.
/// </summary>
public sealed class WebSocketCliTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static string ShoutWs(TestServer server) => server.WebSocketUri().ToString();

    /// <summary>Shout's own wss://: the web endpoint over TLS with its self-signed certificate, and that certificate's pin.</summary>
    private static async Task<(TestServer Server, ShoutEndpoint Endpoint, string Fingerprint)> StartShoutWssAsync()
    {
        var server = await WebServer.StartAsync(web => web.Address = new Uri("https://127.0.0.1:0"));
        var endpoint = ShoutEndpoint.Parse(new UriBuilder(server.Web()) { Scheme = "wss", Path = "/ws" }.Uri.ToString());
        return (server, endpoint, Shout.Transports.Tls.ServerCertificates.Fingerprint(server.Server.TlsCertificate!));
    }

    private static BenchOptions Short(ShoutEndpoint endpoint, BenchMode mode) => new()
    {
        Endpoint = endpoint,
        Mode = mode,
        Connections = 3,
        Pipeline = 4,
        Size = mode == BenchMode.Stream ? 100_000 : 32, // stream: each write one message, sent in two frames
        Duration = TimeSpan.FromSeconds(1),
        Warmup = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public async Task Send_with_words_is_one_message_and_prints_its_reply()
    {
        await using var server = await WebServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["send", "-a", ShoutWs(server), "hello", "world"], timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("HELLO WORLD\n", result.StdoutText);
    }

    [Fact]
    public async Task Send_with_piped_stdin_sends_each_line_as_a_message_and_prints_each_reply()
    {
        await using var server = await WebServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["send", "-a", ShoutWs(server)], "one\ntwo words\r\n\nthree"u8.ToArray(), Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("ONE\nTWO WORDS\n\nTHREE\n", result.StdoutText);
    }

    [Fact]
    public async Task Send_binary_keeps_bytes_that_are_not_utf8_and_text_refuses_them_in_one_line()
    {
        await using var server = await WebServer.StartAsync();
        var binary = await CliRunner.ShoutAsync(["send", "--binary", "-a", ShoutWs(server)], [(byte)'a', 0xFF, (byte)'b', (byte)'\n'], Timeout);
        Assert.True(binary.ExitCode == 0, binary.Stderr);
        Assert.Equal(new byte[] { (byte)'A', 0xFF, (byte)'B', (byte)'\n' }, binary.Stdout);

        var text = await CliRunner.ShoutAsync(["send", "-a", ShoutWs(server)], [(byte)'o', (byte)'k', (byte)'\n', 0xFF, (byte)'\n'], Timeout);
        Assert.Equal(1, text.ExitCode);
        Assert.Equal("OK\n", text.StdoutText);
        Assert.Equal("shout: line 2 of stdin is not valid UTF-8, which a text message must be; send binary messages with --binary\n", text.Stderr);
    }

    [Fact]
    public async Task Chat_sends_each_typed_line_as_a_message_and_quits_on_QUIT()
    {
        await using var server = await WebServer.StartAsync();
        var result = await CliRunner.ShoutAsync(["chat", "-a", ShoutWs(server)], "hi there\nquit\n"u8.ToArray(), Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("HI THERE\nQUIT\n", result.StdoutText);
    }

    [Fact]
    public async Task Send_joins_a_reply_the_ws_package_sends_in_fragments()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        var result = await CliRunner.ShoutAsync(["send", "-a", peer.Endpoint("/fragments").ToString(), "hello", "fragmented", "world"], timeout: Timeout);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("HELLO FRAGMENTED WORLD\n", result.StdoutText);
    }

    [Theory]
    [InlineData("send")]
    [InlineData("chat")]
    public async Task A_close_with_1008_is_reported_in_one_line_and_fails(string command)
    {
        await using var peer = await NodeWsPeer.StartAsync();
        var address = peer.Endpoint("/close1008").ToString();
        var result = command == "send"
            ? await CliRunner.ShoutAsync(["send", "-a", address, "hello"], timeout: Timeout)
            : await CliRunner.ShoutAsync(["chat", "-a", address], "hello\n"u8.ToArray(), Timeout);
        Assert.Equal(1, result.ExitCode);
        var problem = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("shout:", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"shout: the server closed the WebSocket with 1008 (PolicyViolation): no shouting here ({address})"], problem);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_over_wss_verifies_by_default_and_accepts_a_pin_or_insecure()
    {
        await using var peer = await NodeWsPeer.StartAsync(tls: true);
        var address = peer.Endpoint("/upper").ToString();
        var refused = await CliRunner.ShoutAsync(["send", "-a", address, "hi"], timeout: Timeout);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"shout: the server's certificate is not trusted (self-signed? use --pin FINGERPRINT, or --insecure) ({address})\n", refused.Stderr);

        var pinned = await CliRunner.ShoutAsync(["send", "-a", address, "--pin", peer.Fingerprint!, "hi"], timeout: Timeout);
        Assert.True(pinned.ExitCode == 0, pinned.Stderr);
        Assert.Equal("HI\n", pinned.StdoutText);

        var insecure = await CliRunner.ShoutAsync(["send", "-a", address, "--insecure", "hi"], timeout: Timeout);
        Assert.Equal("HI\n", insecure.StdoutText);
    }

    [Theory]
    [InlineData("PingPong")]
    [InlineData("Stream")]
    public async Task Bench_over_ws_against_shout_checks_every_reply(string modeName)
    {
        var mode = Enum.Parse<BenchMode>(modeName);
        await using var server = await WebServer.StartAsync();
        var result = await BenchRunner.RunAsync(Short(ShoutEndpoint.Parse(ShoutWs(server)), mode));
        Assert.True(result.Messages > 0, "no replies counted");
        Assert.Equal(3, result.ConnectionsOpened);
        Assert.True(result.Clean, $"mismatches {result.Mismatches}, errors {string.Join(", ", result.Errors)}");
    }

    [Theory]
    [InlineData("PingPong")]
    [InlineData("Stream")]
    public async Task Bench_over_wss_to_the_ws_package_pinned_checks_every_reply(string modeName)
    {
        var mode = Enum.Parse<BenchMode>(modeName);
        await using var peer = await NodeWsPeer.StartAsync(tls: true);
        var options = Short(peer.Endpoint("/upper"), mode) with { Client = new ShoutClientOptions { Pin = CertificatePin.Parse(peer.Fingerprint!) } };
        var result = await BenchRunner.RunAsync(options);
        Assert.True(result.Messages > 0, "no replies counted");
        Assert.True(result.Clean, $"mismatches {result.Mismatches}, errors {string.Join(", ", result.Errors)}");
    }

    [Theory]
    [InlineData("PingPong")]
    [InlineData("Stream")]
    public async Task Bench_over_wss_against_shout_pinned_checks_every_reply(string modeName)
    {
        var mode = Enum.Parse<BenchMode>(modeName);
        var (server, endpoint, fingerprint) = await StartShoutWssAsync();
        await using (server)
        {
            var options = Short(endpoint, mode) with { Client = new ShoutClientOptions { Pin = CertificatePin.Parse(fingerprint) } };
            var result = await BenchRunner.RunAsync(options);
            Assert.True(result.Messages > 0, "no replies counted");
            Assert.True(result.Clean, $"mismatches {result.Mismatches}, errors {string.Join(", ", result.Errors)}");
        }
    }

    [Fact]
    public async Task Send_and_chat_over_wss_to_shout_verify_and_accept_a_pin()
    {
        var (server, endpoint, fingerprint) = await StartShoutWssAsync();
        await using (server)
        {
            var refused = await CliRunner.ShoutAsync(["send", "-a", endpoint.ToString(), "hi"], timeout: Timeout);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("not trusted", refused.Stderr, StringComparison.Ordinal);

            var sent = await CliRunner.ShoutAsync(["send", "-a", endpoint.ToString(), "--pin", fingerprint, "over", "tls"], timeout: Timeout);
            Assert.True(sent.ExitCode == 0, sent.Stderr);
            Assert.Equal("OVER TLS\n", sent.StdoutText);

            var chat = await CliRunner.ShoutAsync(["chat", "-a", endpoint.ToString(), "--pin", fingerprint], "secret\nquit\n"u8.ToArray(), Timeout);
            Assert.True(chat.ExitCode == 0, chat.Stderr);
            Assert.Equal("SECRET\nQUIT\n", chat.StdoutText);
        }
    }

    [Fact]
    public async Task Bench_over_ws_catches_replies_that_are_not_what_it_expects()
    {
        await using var server = await WebServer.StartAsync();
        var result = await BenchRunner.RunAsync(Short(ShoutEndpoint.Parse(ShoutWs(server)), BenchMode.PingPong) with { Expect = BenchExpect.Echo });
        Assert.True(result.Mismatches > 0, "uppercased replies passed as echoes");
    }

    [Fact]
    public async Task The_bench_command_drives_ws_and_wss_and_prints_json()
    {
        await using var server = await WebServer.StartAsync();
        await using var peer = await NodeWsPeer.StartAsync(tls: true);
        var (secure, wss, fingerprint) = await StartShoutWssAsync();
        await using var secureServer = secure;
        foreach (var args in (string[][])[["-a", ShoutWs(server)], ["-a", wss.ToString(), "--pin", fingerprint],
            ["-a", peer.Endpoint("/upper").ToString(), "--pin", peer.Fingerprint!]])
        {
            var result = await CliRunner.ShoutAsync(["bench", .. args, "-c", "2", "--pipeline", "2", "-d", "1s", "--warmup", "200ms", "--json"], timeout: Timeout);
            Assert.True(result.ExitCode == 0, result.Stderr);
            using var json = JsonDocument.Parse(result.Stdout);
            Assert.True(json.RootElement.GetProperty("messages").GetInt64() > 0);
            Assert.Equal(0, json.RootElement.GetProperty("mismatches").GetInt64());
            Assert.Empty(json.RootElement.GetProperty("errors").EnumerateObject());
        }
    }

    [Fact]
    public async Task Bench_reports_a_close_code_by_its_number()
    {
        await using var peer = await NodeWsPeer.StartAsync();
        var result = await BenchRunner.RunAsync(Short(peer.Endpoint("/close1008"), BenchMode.PingPong) with { Connections = 1 });
        Assert.Equal(0, result.Messages);
        Assert.Equal(1, result.Errors.GetValueOrDefault("ws_close_1008"));
    }
}
