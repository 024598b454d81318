using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Web;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// RELIABILITY row 26, descriptors: a <c>shout serve</c> process under a lowered <c>ulimit -n</c>
/// facing more keep-alive HTTP connections than it has descriptors stops accepting and backs off,
/// never aborts, and answers <c>/healthz</c> and its stream port once they close; a connection limit
/// that does not fit the descriptor limit is lowered at start with a warning naming both numbers.
/// </summary>
public sealed partial class Row26DescriptorExhaustionTests
{
    private const int DescriptorLimit = 1024;
    private const int Clients = 1200;

    [Theory]
    [InlineData("sockets")]
    [InlineData("epoll")]
    public async Task Row26_more_keep_alive_connections_than_descriptors_leave_the_process_serving(string transport)
    {
        await using var server = StartLimited("--max-connections", "0", "--transport", transport);
        var (tcp, web) = await ListeningAsync(server);

        // No warm-up request first: the very first HTTP answers come while descriptors run short.
        var clients = new List<Socket>(Clients);
        var answered = 0;
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(socket);
                using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    // Past the accepted ones and the listen queue, a connect may wait: that is the backoff working.
                    await socket.ConnectAsync(web, connect.Token);
                    await socket.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    // Not taken now; counted below only by what was answered.
                }
            }

            // Those admitted are answered 200 while the rest wait or are told 503: none of it kills the process.
            using var read = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var buffer = new byte[1024];
            foreach (var socket in clients.Where(c => c.Connected).Take(100))
            {
                try
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, read.Token);
                    answered += n > 0 && System.Text.Encoding.ASCII.GetString(buffer, 0, n).StartsWith("HTTP/1.1 200", StringComparison.Ordinal) ? 1 : 0;
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    // Refused or still waiting.
                }
            }

            Assert.False(server.HasExited, $"the server exited under descriptor exhaustion:\n{server.Stdout}\n{server.Stderr}");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        Assert.True(answered > 0, "no admitted client was answered");

        // Once they are gone, the web port and the stream port answer again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await HealthyAsync(web))
        {
            Assert.True(DateTime.UtcNow < deadline, $"/healthz did not answer after the clients closed:\n{server.Stdout}\n{server.Stderr}");
            await Task.Delay(200);
        }
        using (var stream = await RawClient.ConnectAsync(Shout.Endpoints.ShoutEndpoint.ForTcp("127.0.0.1", tcp.Port)))
        {
            await stream.SendAsync("still here"u8.ToArray());
            stream.Shutdown(SocketShutdown.Send);
            Assert.Equal("STILL HERE"u8.ToArray(), await RawClient.ReadToEndAsync(stream));
        }

        Assert.False(server.HasExited, $"the server exited:\n{server.Stdout}\n{server.Stderr}");
        var output = server.Stdout + server.Stderr;
        Assert.DoesNotContain("Could not load", output, StringComparison.Ordinal);
        Assert.DoesNotContain("TypeInitializationException", output, StringComparison.Ordinal);
        Assert.Contains($"--max-connections 0 (no limit) does not fit the open-file limit of {DescriptorLimit} descriptors", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Row26_a_connection_limit_above_the_descriptor_limit_is_lowered_with_a_warning()
    {
        await using var server = StartLimited("--max-connections", "5000");
        await ListeningAsync(server);
        var lowered = Sessions.DescriptorBudget.ProcessShare;
        var output = await server.WaitForOutputAsync(o => o.Contains("lowered to", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture,
            $"--max-connections 5000 does not fit the open-file limit of {DescriptorLimit} descriptors"), output, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"lowered to {DescriptorLimit - lowered};"), output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Row26_a_connection_limit_that_fits_is_kept_without_a_warning()
    {
        await using var server = StartLimited("--max-connections", "100");
        await ListeningAsync(server);
        Assert.DoesNotContain("does not fit the open-file limit", server.Stdout + server.Stderr, StringComparison.Ordinal);
    }

    private static ProcessHarness StartLimited(params string[] args)
    {
        var shout = string.Join(' ', new[] { "dotnet", Repo.CliDll, "serve", "-l", "tcp://127.0.0.1:0", "--web", "http://127.0.0.1:0" }
            .Concat(args).Select(Quote));
        return ProcessHarness.Start("bash", ["-c", $"ulimit -n {DescriptorLimit} && exec {shout}"]);
    }

    private static string Quote(string arg) => "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task<(IPEndPoint Tcp, IPEndPoint Web)> ListeningAsync(ProcessHarness server)
    {
        var output = await server.WaitForOutputAsync(o => WebLine().IsMatch(o) && TcpLine().IsMatch(o), TimeSpan.FromSeconds(60));
        return (new IPEndPoint(IPAddress.Loopback, int.Parse(TcpLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture)),
            new IPEndPoint(IPAddress.Loopback, int.Parse(WebLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture)));
    }

    private static async Task<bool> HealthyAsync(IPEndPoint web)
    {
        try
        {
            var reply = await RawHttp.SendAsync(new Uri($"http://127.0.0.1:{web.Port}/"), IPAddress.Loopback,
                RawHttp.Request("GET", "/healthz", "localhost"), TimeSpan.FromSeconds(5));
            return reply.Status == 200;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"listening on http://127\.0\.0\.1:(\d+)")]
    private static partial Regex WebLine();

    [GeneratedRegex(@"listening on tcp://127\.0\.0\.1:(\d+)")]
    private static partial Regex TcpLine();
}
