using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

/// <summary>Mistakes in the transport options: one clear line and a non-zero exit, never a stack trace.</summary>
public sealed class TransportOptionErrorTests
{
    [Theory]
    [InlineData(new[] { "serve", "--listen", "tls://127.0.0.1:0", "--tls-cert", "/nonexistent/cert.pem" }, "does not exist")]
    [InlineData(new[] { "serve", "--tls-key", "/tmp/key.pem" }, "--tls-key needs --tls-cert")]
    [InlineData(new[] { "serve", "--unix-mode", "9z" }, "not an octal file mode")]
    [InlineData(new[] { "send", "--pin", "AB:CD", "x" }, "64 hex digits")]
    [InlineData(new[] { "send", "--retries", "-1", "x" }, "--retries: '-1' is not a whole number, 0 or more")]
    [InlineData(new[] { "serve", "--listen", "udp://example.com:8080" }, "listen on an IP address")]
    [InlineData(new[] { "serve", "--listen", "tls://example.com:8443" }, "listen on an IP address")]
    public async Task Bad_transport_options_are_refused_with_a_message(string[] args, string message)
    {
        var result = await CliRunner.ShoutAsync(args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr + result.StdoutText, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_UDP_port_in_use_is_one_IOException_naming_it()
    {
        using var taken = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        taken.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var address = $"udp://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndPoint!).Port}";
        var error = await Assert.ThrowsAsync<IOException>(() => TestServer.StartAsync(listen: address));
        Assert.Contains($"cannot bind {address}", error.Message, StringComparison.Ordinal);
    }
}
