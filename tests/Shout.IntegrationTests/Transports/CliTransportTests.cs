using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The README's promise: one <c>shout serve</c> on all four transports, and <c>shout send</c> and
/// <c>shout chat</c> talking to each with the same commands.
/// </summary>
public sealed class CliTransportTests(AllTransportsServer server) : IClassFixture<AllTransportsServer>
{
    private readonly IReadOnlyDictionary<ShoutTransport, string> _addresses = server.Addresses;
    private readonly string _fingerprint = server.Fingerprint;

    [Theory]
    [InlineData(ShoutTransport.Tcp)]
    [InlineData(ShoutTransport.Udp)]
    [InlineData(ShoutTransport.Unix)]
    [InlineData(ShoutTransport.Tls)]
    public async Task Send_gets_the_answer_over_every_transport(ShoutTransport transport)
    {
        var result = await CliRunner.ShoutAsync(["send", "-a", _addresses[transport], "--pin", _fingerprint, "hello", "ȿ"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("HELLO Ȿ\n", result.StdoutText);
    }

    [Theory]
    [InlineData(ShoutTransport.Tcp)]
    [InlineData(ShoutTransport.Udp)]
    [InlineData(ShoutTransport.Unix)]
    [InlineData(ShoutTransport.Tls)]
    public async Task Chat_talks_and_quits_over_every_transport(ShoutTransport transport)
    {
        var result = await CliRunner.ShoutAsync(["chat", "-a", _addresses[transport], "--pin", _fingerprint], "one\ntwo\nquit\n"u8.ToArray());
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("ONE\nTWO\nQUIT\n", result.StdoutText);
    }

    [Theory]
    [InlineData(ShoutTransport.Tcp)]
    [InlineData(ShoutTransport.Udp)]
    public async Task Send_resolves_a_host_name(ShoutTransport transport)
    {
        var address = _addresses[transport].Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        var result = await CliRunner.ShoutAsync(["send", "-a", address, "by", "name"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("BY NAME\n", result.StdoutText);
    }

    [Fact]
    public async Task Send_over_UDP_sends_each_stdin_line_as_a_datagram()
    {
        var result = await CliRunner.ShoutAsync(["send", "-a", _addresses[ShoutTransport.Udp]], "first\r\nsecond\nthird"u8.ToArray());
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("FIRST\nSECOND\nTHIRD\n", result.StdoutText);
    }

    [Fact]
    public async Task Send_over_UDP_gives_up_after_its_retries_with_a_clear_error()
    {
        // A bound socket that never answers: the datagrams arrive, no reply comes.
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var address = $"udp://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndPoint!).Port}";
        var result = await CliRunner.ShoutAsync(["send", "-a", address, "--timeout", "200ms", "--retries", "2", "anyone?"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no reply", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("after 3 tries", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, CountQueued(silent));
    }

    [Fact]
    public async Task Tls_without_a_pin_refuses_the_self_signed_certificate_and_says_what_to_do()
    {
        var result = await CliRunner.ShoutAsync(["send", "-a", _addresses[ShoutTransport.Tls], "hi"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not trusted", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--pin", result.Stderr, StringComparison.Ordinal);

        var insecure = await CliRunner.ShoutAsync(["send", "-a", _addresses[ShoutTransport.Tls], "--insecure", "hi"]);
        Assert.Equal("HI\n", insecure.StdoutText);
    }

    private static int CountQueued(System.Net.Sockets.Socket socket)
    {
        var count = 0;
        var buffer = new byte[1024];
        while (socket.Available > 0)
        {
            socket.Receive(buffer);
            count++;
        }

        return count;
    }
}

/// <summary>One <c>shout serve</c> process on tcp, udp, unix and tls (IPv6), shared by the CLI tests.</summary>
public sealed partial class AllTransportsServer : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly Dictionary<ShoutTransport, string> _addresses = [];
    private ProcessHarness _server = null!;

    public IReadOnlyDictionary<ShoutTransport, string> Addresses => _addresses;

    public string Fingerprint { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var path = Path.Combine(Repo.TempDir(), "s.sock");
        _server = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--listen", "udp://127.0.0.1:0",
            "--listen", "unix://" + path, "--listen", "tls://[::1]:0");
        var output = await _server.WaitForOutputAsync(o => Listening().Count(o) == 4, Wait);
        foreach (Match match in Listening().Matches(output))
        {
            var endpoint = ShoutEndpoint.Parse(match.Groups[1].Value);
            _addresses[endpoint.Transport] = endpoint.ToString();
        }

        Fingerprint = FingerprintLine().Match(output).Groups[1].Value;
    }

    public async Task DisposeAsync()
    {
        _server.Signal(15);
        await _server.WaitForExitAsync(Wait);
        await _server.DisposeAsync();
    }

    [GeneratedRegex(@"listening on (\S+)")]
    private static partial Regex Listening();

    [GeneratedRegex("SHA-256 fingerprint ([0-9A-F:]+)")]
    private static partial Regex FingerprintLine();
}
