using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

public sealed partial class ServeCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int Sigterm = 15;

    internal static async Task<(ProcessHarness Process, ShoutEndpoint Endpoint)> StartServeAsync(params string[] extra)
    {
        // No web endpoint: its default port (8081) is fixed, and tests run in parallel.
        var process = ProcessHarness.StartShout(["serve", "--listen", "tcp://127.0.0.1:0", "--web", "none", .. extra]);
        return (process, await process.WaitForTcpListeningAsync(Timeout));
    }

    [Fact]
    public async Task Serve_prints_where_it_listens_and_exits_0_on_sigterm()
    {
        var (process, endpoint) = await StartServeAsync();
        await using var _ = process;
        var result = await CliRunner.ShoutAsync(["send", "-a", endpoint.ToString(), "hi"], timeout: Timeout);
        Assert.Equal("HI\n", result.StdoutText);
        process.Signal(Sigterm);
        Assert.Equal(0, await process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Serve_refuses_a_malformed_listen_address()
    {
        var result = await CliRunner.ShoutAsync(["serve", "--listen", "tcp://nowhere"], timeout: Timeout);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("missing port", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_reports_a_port_in_use_in_one_line()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var result = await CliRunner.ShoutAsync(["serve", "--listen", $"tcp://127.0.0.1:{port}", "--web", "none"], timeout: Timeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot listen", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_under_load_answers_every_byte_the_server_read()
    {
        var (process, endpoint) = await StartServeAsync("--verbose", "--shutdown-timeout", "20s");
        await using var _ = process;
        const int clients = 20;
        var message = "ping pong 0123456789 abcdefghijklmnopqrstuvwxyz\n"u8.ToArray();
        long replies = 0;
        var sixHundredReplies = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            using var socket = await RawClient.ConnectAsync(endpoint);
            var local = ((IPEndPoint)socket.LocalEndPoint!).Port;
            long received = 0;
            var reset = false;
            var buffer = new byte[4096];
            using var deadline = new CancellationTokenSource(Timeout);
            try
            {
                while (true)
                {
                    await socket.SendAsync(message, SocketFlags.None, deadline.Token);
                    var got = 0;
                    while (got < message.Length)
                    {
                        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                        if (read == 0)
                        {
                            return new ClientRun(local, received, reset);
                        }

                        got += read;
                        received += read;
                    }

                    if (Interlocked.Increment(ref replies) == 600)
                    {
                        sixHundredReplies.TrySetResult();
                    }
                }
            }
            catch (SocketException)
            {
                reset = true;
            }

            return new ClientRun(local, received, reset);
        })).ToArray();

        await sixHundredReplies.Task.WaitAsync(Timeout);
        process.Signal(Sigterm);
        var results = await Task.WhenAll(runs);
        Assert.Equal(0, await process.WaitForExitAsync(Timeout));

        // The server's own account of each connection (--verbose): bytes read and bytes answered.
        var log = process.Stdout;
        var ids = AcceptedLine().Matches(log).ToDictionary(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m => m.Groups[1].Value);
        var closed = ClosedLine().Matches(log).ToDictionary(m => m.Groups[1].Value,
            m => (In: long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), Out: long.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture), Reason: m.Groups[2].Value));
        foreach (var run in results)
        {
            var server = closed[ids[run.LocalPort]];
            Assert.Equal(server.In, server.Out); // ASCII: an answer is as long as its input
            if (!run.Reset)
            {
                Assert.Equal(server.Out, run.Received);
                Assert.Equal(0, run.Received % message.Length); // never a partial reply
            }
        }

        Assert.Contains(closed.Values, c => c.Reason == "server_drain");
    }

    private sealed record ClientRun(int LocalPort, long Received, bool Reset);


    [GeneratedRegex(@"(\S+) tcp accepted from 127\.0\.0\.1:(\d+)")]
    private static partial Regex AcceptedLine();

    [GeneratedRegex(@"(\S+) closed by \w+ \((\w+)\): (\d+) bytes in, (\d+) bytes out")]
    private static partial Regex ClosedLine();
}
