using System.Net.Sockets;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// Row 6 on TLS: a client over the connection limit is closed without a byte. A plaintext busy line
/// (what a TCP client gets) would be the first bytes a TLS client reads, before any handshake.
/// </summary>
public sealed class TlsOverLimitTests
{
    [Fact]
    public async Task Row06_a_TLS_client_over_the_limit_gets_no_plaintext_before_any_handshake()
    {
        await using var server = await MatrixTransport.Tls.StartAsync(o => o.MaxConnections = 1);
        await using var held = await Probe.ServedAsync(MatrixTransport.Tls, server, null, "first");

        // The second client says nothing yet (a TLS client would send its ClientHello): whatever it
        // reads came from the server unasked.
        using var extra = await RawClient.ConnectAsync(server.EndpointOf(ShoutTransport.Tls));
        var received = await RawClient.ReadToEndAsync(extra);
        Assert.True(received.Length == 0, $"the refused TLS client read {received.Length} bytes: {System.Text.Encoding.ASCII.GetString(received)}");
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.Limit));

        // And a real TLS client over the limit sees its handshake fail, not a garbled record.
        var refused = await Assert.ThrowsAsync<RefusedException>(() => MatrixTransport.Tls.OpenAsync(server));
        Assert.StartsWith("TLS handshake failed", refused.Message, StringComparison.Ordinal);
    }
}
