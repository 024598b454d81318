using System.Security.Cryptography;
using System.Text.Json;
using Shout.Client;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.Load;

namespace Shout.IntegrationTests.Bench;

/// <summary>
/// The load generator against a real server for about a second: it must count replies, check
/// them (and catch wrong ones), and end cleanly. Numbers are never asserted, only their presence.
/// </summary>
public sealed class BenchTests
{
    private static BenchOptions Short(ShoutEndpoint endpoint, BenchMode mode = BenchMode.PingPong) => new()
    {
        Endpoint = endpoint,
        Mode = mode,
        Connections = 4,
        Pipeline = 2,
        Size = mode == BenchMode.Stream ? 4096 : 32,
        Duration = TimeSpan.FromSeconds(1),
        Warmup = TimeSpan.FromMilliseconds(200),
        Rate = 1000,
    };

    [Fact]
    public async Task Pingpong_against_shout_counts_replies_and_finds_no_mismatch()
    {
        await using var server = await TestServer.StartAsync();
        var result = await BenchRunner.RunAsync(Short(server.Endpoint));
        Assert.True(result.Messages > 0, "no replies counted");
        Assert.Equal(4, result.ConnectionsOpened);
        Assert.Equal(0, result.Mismatches);
        Assert.Empty(result.Errors);
        Assert.NotNull(result.Latency);
        Assert.True(result.Latency.Max >= result.Latency.P50);
    }

    [Fact]
    public async Task Pingpong_over_a_unix_socket_works()
    {
        var path = Path.Combine(Path.GetTempPath(), $"shout-bench-{Guid.NewGuid():N}.sock");
        await using var server = await TestServer.StartAsync(listen: $"unix://{path}");
        var result = await BenchRunner.RunAsync(Short(server.Endpoint));
        Assert.True(result.Messages > 0, "no replies counted");
        Assert.True(result.Clean, $"mismatches {result.Mismatches}, errors {string.Join(", ", result.Errors)}");
    }

    [Fact]
    public async Task Pingpong_over_tls_with_a_pinned_certificate_works()
    {
        await using var server = await TestServer.StartAsync(listen: "tls://127.0.0.1:0");
        var pin = CertificatePin.Parse(Convert.ToHexString(server.Server.TlsCertificate!.GetCertHash(HashAlgorithmName.SHA256)));
        var result = await BenchRunner.RunAsync(Short(server.Endpoint) with { Client = new ShoutClientOptions { Pin = pin } });
        Assert.True(result.Messages > 0, "no replies counted");
        Assert.True(result.Clean, $"mismatches {result.Mismatches}, errors {string.Join(", ", result.Errors)}");
    }

    [Fact]
    public async Task Pingpong_over_udp_works()
    {
        await using var server = await TestServer.StartAsync(listen: "udp://127.0.0.1:0");
        var result = await BenchRunner.RunAsync(Short(server.Endpoint) with { Pipeline = 1 });
        Assert.True(result.Messages > 0, "no replies counted");
        Assert.Equal(0, result.Mismatches);
    }

    [Fact]
    public async Task A_server_that_does_not_uppercase_is_caught()
    {
        await using var echo = new WrongEchoServer();
        var result = await BenchRunner.RunAsync(Short(echo.Endpoint));
        Assert.True(result.Mismatches > 0, "an echo server passed as an uppercase server");
        Assert.Contains("expected \"ABC", result.FirstMismatch, StringComparison.Ordinal);

        var asEcho = await BenchRunner.RunAsync(Short(echo.Endpoint) with { Expect = BenchExpect.Echo });
        Assert.Equal(0, asEcho.Mismatches);
    }

    [Fact]
    public async Task Stream_gets_every_byte_back_after_half_close()
    {
        await using var server = await TestServer.StartAsync();
        var result = await BenchRunner.RunAsync(Short(server.Endpoint, BenchMode.Stream));
        Assert.True(result.Bytes > 0, "no bytes counted");
        Assert.True(result.Clean, $"mismatches {result.Mismatches}, errors {string.Join(", ", result.Errors)}");
    }

    [Fact]
    public async Task Hold_answers_every_connection_and_reads_the_server_memory()
    {
        await using var server = await TestServer.StartAsync();
        var result = await BenchRunner.RunAsync(Short(server.Endpoint, BenchMode.Hold) with { Connections = 20 });
        Assert.Equal(20, result.Messages);
        Assert.True(result.Clean, $"mismatches {result.Mismatches}, errors {string.Join(", ", result.Errors)}");
        // The in-process server is found through /proc as this very process.
        Assert.Equal(Environment.ProcessId, result.ServerPid);
        Assert.NotNull(result.ServerMemory);
        Assert.Equal(20, result.ServerMemory.Connections);
        await server.WaitForNoConnectionsAsync();
    }

    [Fact]
    public async Task The_cli_prints_json_and_fails_loudly_on_wrong_replies()
    {
        await using var server = await TestServer.StartAsync();
        var good = await CliRunner.ShoutAsync(["bench", "-a", server.Endpoint.ToString(), "-c", "2", "-d", "1s", "--warmup", "200ms", "--json"]);
        Assert.True(good.ExitCode == 0, good.Stderr);
        using (var json = JsonDocument.Parse(good.Stdout))
        {
            Assert.True(json.RootElement.GetProperty("messages").GetInt64() > 0);
            Assert.Equal(0, json.RootElement.GetProperty("mismatches").GetInt64());
        }

        await using var echo = new WrongEchoServer();
        var bad = await CliRunner.ShoutAsync(["bench", "-a", echo.Endpoint.ToString(), "-d", "1s", "--warmup", "0s"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("WRONG REPLIES", bad.StdoutText, StringComparison.Ordinal);
    }
}
