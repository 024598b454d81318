using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// The messages a user sees name the cause in Shout's words, never .NET's ("Authentication failed,
/// see inner exception.", "Cannot determine the frame size…", "Unable to connect to the remote
/// server"): each asserted verbatim.
/// </summary>
public sealed partial class CauseMessageTests
{
    private static readonly TimeSpan Command = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Tls_to_a_plain_TCP_port_and_ws_to_a_non_HTTP_port_say_what_answered()
    {
        await using var server = await TestServer.StartAsync();
        var port = server.Endpoint.Port;
        var tls = await CliRunner.ShoutAsync(["send", "-a", $"tls://127.0.0.1:{port}", "-k", "hi"], timeout: Command);
        Assert.Equal(1, tls.ExitCode);
        Assert.Equal($"shout: tls://127.0.0.1:{port} did not answer the TLS handshake (is it a plain TCP port?)\n", tls.Stderr);

        var ws = await CliRunner.ShoutAsync(["send", "-a", $"ws://127.0.0.1:{port}/ws", "hi"], timeout: Command);
        Assert.Equal(1, ws.ExitCode);
        Assert.Equal($"shout: ws://127.0.0.1:{port}/ws answered, but not with HTTP: is it a WebSocket server?\n", ws.Stderr);
    }

    [Fact]
    public async Task Wss_to_a_ws_port_says_it_did_not_answer_the_TLS_handshake()
    {
        await using var serve = ProcessHarness.StartShout("serve", "--listen", "127.0.0.1:0", "--web", "http://127.0.0.1:0");
        var log = await serve.WaitForOutputAsync(o => WebPort().IsMatch(o), Command);
        var web = WebPort().Match(log).Groups[1].Value;
        var wss = await CliRunner.ShoutAsync(["send", "-a", $"wss://127.0.0.1:{web}/ws", "-k", "hi"], timeout: Command);
        Assert.Equal(1, wss.ExitCode);
        Assert.Equal($"shout: wss://127.0.0.1:{web}/ws did not answer the TLS handshake (is it a plain ws:// port?)\n", wss.Stderr);
    }

    [Fact]
    public async Task A_unix_socket_that_cannot_be_created_names_its_path()
    {
        var result = await CliRunner.ShoutAsync(["serve", "--listen", "unix:///proc/x.sock", "--web", "none"], stdin: [], timeout: Command);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("shout: cannot listen on unix:///proc/x.sock: cannot create the socket file /proc/x.sock (is its directory writable?)\n", result.Stderr);
    }

    [Fact]
    public async Task A_broken_config_file_names_the_line_and_column()
    {
        var path = Path.Combine(Repo.TempDir(), "broken.json");
        await File.WriteAllTextAsync(path, "{\n  \"Shout\": { \"MaxConnections\": 5,, }\n}\n");
        var result = await CliRunner.ShoutAsync(["serve", "--config", path, "--web", "none"], stdin: [], timeout: Command);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal($"shout: {path}: not valid JSON at line 2, column 34: ',' is an invalid start of a property name\n", result.Stderr);

        await File.WriteAllTextAsync(path, "{\"Shout\": {\n");
        var cut = await CliRunner.ShoutAsync(["serve", "--config", path, "--web", "none"], stdin: [], timeout: Command);
        Assert.Equal($"shout: {path}: not valid JSON at line 2, column 1: the file ends before an object or array is closed\n", cut.Stderr);
    }

    [Fact]
    public async Task Logs_say_one_open_connection_and_durations_a_person_reads()
    {
        using var logs = new LogCapture();
        var server = await TestServer.StartAsync(logs: logs);
        using var client = new TcpClient();
        await client.ConnectAsync(server.Endpoint.Host, server.Endpoint.Port);
        await client.GetStream().WriteAsync("x"u8.ToArray());
        Assert.Equal(1, await client.GetStream().ReadAsync(new byte[1]));
        await server.DisposeAsync();
        var messages = logs.Entries.Select(e => e.Message).ToList();
        Assert.Contains("Shout draining: no new connections; answering what 1 open connection sent, then closing them", messages);
        Assert.Contains(messages, m => ClosedLine().IsMatch(m));
    }

    [Theory]
    [InlineData(54.7, "54.7 ms")]
    [InlineData(1234, "1.2 s")]
    [InlineData(300021.8, "5m 0.0s")]
    [InlineData(7_380_000, "2h 3m")]
    public void Durations_read_as_a_person_writes_them(double milliseconds, string text) =>
        Assert.Equal(text, Shout.Text.DurationText.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [GeneratedRegex(@"http://127\.0\.0\.1:(\d+)")]
    private static partial Regex WebPort();

    [GeneratedRegex(@"closed by .*: 1 bytes in, 1 bytes out, \d+\.\d (ms|s); tcp from")]
    private static partial Regex ClosedLine();
}
