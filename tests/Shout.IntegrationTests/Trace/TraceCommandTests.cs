using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;
using Shout.Trace;

namespace Shout.IntegrationTests.Trace;

/// <summary><c>shout trace</c> as a process: its JSON read back, its plain lines, and its refusal without CAP_NET_RAW.</summary>
public sealed partial class TraceCommandTests
{
    [Fact]
    public async Task Json_lines_of_a_traced_shout_send_parse_back_into_the_whole_connection()
    {
        await using var server = await TestServer.StartAsync();
        var address = server.Endpoint.ToString();
        var result = await CliRunner.ShoutAsync(["trace", "-a", address, "--json", "--", "dotnet", Repo.CliDll, "send", "-a", address, "hello"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stderr}");

        // The traced command's own output goes to stderr; stdout is the trace alone.
        Assert.Contains("HELLO", result.Stderr, StringComparison.Ordinal);
        var records = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(TraceJson.Deserialize).ToList();
        var lines = records.OfType<TracePacketLine>().ToList();
        TraceAssert.Handshake(lines);
        Assert.True(TraceAssert.Data(lines, "client") is { Seq: "x+1", Length: 5, Preview: "hello" }, result.StdoutText);
        Assert.True(TraceAssert.Data(lines, "server") is { Seq: "y+1", Length: 5, Preview: "HELLO" }, result.StdoutText);
        var summary = Assert.Single(records.OfType<TraceSummary>());
        Assert.Equal(("client", "client", 5L, 5L), (summary.ClosedFirst, summary.TimeWait, summary.BytesClientToServer, summary.BytesServerToClient));
        Assert.All(records, r => Assert.Equal(server.Endpoint.ToString().Replace("tcp://", "", StringComparison.Ordinal), r!.Server));

        // Stable field names, as docs/trace.md lists them.
        var first = result.StdoutText.Split('\n')[0];
        foreach (var field in new[] { "type", "connection", "time", "client", "server", "from", "flags", "seq", "seqOffset", "ack", "ackOffset",
            "length", "preview", "clientState", "serverState", "retransmission", "elapsedMs", "gapMs", "zeroWindow" })
        {
            Assert.Contains($"\"{field}\":", first, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_client_that_does_not_read_shows_as_its_zero_window()
    {
        await using var server = await TestServer.StartAsync();
        await using var trace = ProcessHarness.StartShout("trace", "-p", server.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        await trace.WaitForOutputAsync(o => o.Contains("Ctrl+C to stop", StringComparison.Ordinal), TimeSpan.FromSeconds(30), stderr: true);

        // A small receive buffer that is never read: the server's replies fill it, and the client's
        // kernel says so with a zero window.
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(server.Endpoint.Host, server.Endpoint.Port);
        var payload = new byte[256 * 1024];
        Array.Fill(payload, (byte)'z');
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var send = client.SendAsync(payload, System.Net.Sockets.SocketFlags.None, sending.Token).AsTask();

        var output = await trace.WaitForOutputAsync(o => o.Split('\n').Any(ZeroWindowFromClient), TimeSpan.FromSeconds(30));
        var line = output.Split('\n').First(ZeroWindowFromClient);
        var packet = Assert.IsType<TracePacketLine>(TraceJson.Deserialize(line));
        Assert.True(packet is { From: "client", ZeroWindow: true }, line);
        client.Close();
        await sending.CancelAsync();
        await send.ContinueWith(static _ => { }, TaskScheduler.Default);

        static bool ZeroWindowFromClient(string l) => l.Contains("\"zeroWindow\":true", StringComparison.Ordinal) && l.Contains("\"from\":\"client\"", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_lines_draw_the_handshake_and_a_summary_when_piped()
    {
        await using var server = await TestServer.StartAsync();
        var address = server.Endpoint.ToString();
        var result = await CliRunner.ShoutAsync(["trace", "-a", address, "--connections", "1", "--", "dotnet", Repo.CliDll, "send", "-a", address, "hi"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stderr}");
        var lines = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^#1 tcp client 127\.0\.0\.1:\d+ ⇄ server 127\.0\.0\.1:\d+$", lines[0]);
        Assert.Matches(@"^#1 client → server SYN +seq=x +→ client SYN_SENT$", lines[1]);
        Assert.Matches(@"^#1 server → client SYN-ACK +seq=y +ack=x\+1 +→ server SYN_RCVD, client ESTABLISHED$", lines[2]);
        Assert.Matches(@"^#1 client → server ACK +seq=x\+1 +ack=y\+1 +→ server ESTABLISHED$", lines[3]);
        Assert.Contains(lines, l => DataLine().IsMatch(l));
        Assert.Matches(@"^#1 end: the client closed first; client in TIME_WAIT; handshake RTT [\d.]+ ms; client→server 2 B, server→client 2 B; 0 retransmissions; \d+ packets$", lines[^1]);
        Assert.DoesNotContain("\u001b[", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_CAP_NET_RAW_it_says_so_in_one_line_and_how_to_grant_it()
    {
        var setpriv = Tools.Require("setpriv");

        // The unprivileged user needs to read the CLI: a copy in a world-readable folder, whatever the checkout's permissions.
        var cli = ReadableCopyOfTheCli();
        Assert.Equal(0, (await CliRunner.RunAsync("chmod", ["-R", "a+rX", cli])).ExitCode);
        var result = await CliRunner.RunAsync(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
            "dotnet", Path.Combine(cli, "shout.dll"), "trace", "--port", "8080"], timeout: TimeSpan.FromSeconds(60),
            environment: new Dictionary<string, string> { ["HOME"] = cli, ["DOTNET_CLI_HOME"] = cli });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.StdoutText);
        var error = result.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("shout: cannot capture on lo: not permitted", error, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_RAW", error, StringComparison.Ordinal);
        Assert.Contains("run as root", error, StringComparison.Ordinal);
        Assert.Contains("setcap cap_net_raw,cap_net_admin+eip", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    internal static string ReadableCopyOfTheCli()
    {
        var folder = Repo.TempDir();
        var deps = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "shout.deps.json"));
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith("shout.", StringComparison.Ordinal) || name.EndsWith(".dll", StringComparison.Ordinal) && deps.Contains(name, StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(folder, name));
            }
        }

        return folder;
    }

    [GeneratedRegex(@"^#1 client → server PSH-ACK +seq=x\+1 +ack=y\+1 +2 B ""hi""$")]
    private static partial Regex DataLine();
}
