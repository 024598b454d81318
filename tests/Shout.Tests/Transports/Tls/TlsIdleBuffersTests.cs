using System.Net.Security;
using System.Net.Sockets;
using System.Net;
using Shout.Transports.Tls;

namespace Shout.Tests.Transports.Tls;

/// <summary>
/// <see cref="TlsIdleBuffers"/> reaches OpenSSL through the runtime's private layout: these fail when a
/// runtime update moves it (TLS would still work, but each idle connection would hold its ~34 KiB of
/// record buffers again), and show that a stream with the mode set still carries data both ways.
/// </summary>
public sealed class TlsIdleBuffersTests
{
    [Fact]
    public void Supported_on_linux()
    {
        Assert.Equal(OperatingSystem.IsLinux(), TlsIdleBuffers.Supported);
    }

    [Fact]
    public async Task A_stream_with_its_buffers_released_when_idle_still_carries_data_both_ways()
    {
        using var certificate = ServerCertificates.CreateSelfSigned();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();

        await using var server = new SslStream(accepted.GetStream());
        await using var peer = new SslStream(client.GetStream());
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }),
            peer.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString() }));

        Assert.True(TlsIdleBuffers.Release(server));

        // Several records each way, with the buffers freed and taken again between them.
        for (var i = 0; i < 3; i++)
        {
            var message = new byte[20_000 + i];
            Random.Shared.NextBytes(message);
            await peer.WriteAsync(message);
            var got = new byte[message.Length];
            await server.ReadExactlyAsync(got);
            Assert.Equal(message, got);
            await server.WriteAsync(got);
            var back = new byte[message.Length];
            await peer.ReadExactlyAsync(back);
            Assert.Equal(message, back);
        }
    }
}
