using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Shout.Toxics;

/// <summary>
/// TLS at either end of a proxy connection: the TLS side (a client whose TLS the proxy terminates,
/// or an upstream it encrypts to again) is bridged to one end of a loopback TCP pair, and the other
/// end stands in for it in <see cref="ProxyConnection"/>, so the toxics, half-close, resets and
/// backpressure act on the plaintext exactly as on a plain connection. Close and reset cross the
/// bridge in kind: end of data becomes close_notify and FIN (and a FIN or close_notify from the TLS
/// peer a FIN), a reset on either side a reset (linger 0) on the other. Each direction holds at
/// most one 16 KiB buffer in the bridge.
/// </summary>
internal static class TlsBridge
{
    /// <summary>How long a TLS handshake may take before the connection is reset.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private const int Chunk = 16 * 1024;

    /// <summary>Terminates the client's TLS with <paramref name="certificate"/>; the plaintext stand-in for the client, or null (reset) when the handshake failed.</summary>
    public static async Task<Socket?> TerminateAsync(Socket client, X509Certificate2 certificate, CancellationToken stop)
    {
        var tls = new SslStream(new NetworkStream(client, ownsSocket: false));
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(HandshakeTimeout);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException or SocketException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            ProxyConnection.Reset(client);
            return null;
        }

        return await BridgeAsync(client, tls).ConfigureAwait(false);
    }

    /// <summary>
    /// Encrypts to the upstream again: a TLS client to <paramref name="upstream"/> checking its
    /// certificate for <paramref name="host"/> (against <paramref name="trust"/> when given, else the
    /// system's roots); the plaintext stand-in for the upstream, or null (reset) when that failed.
    /// </summary>
    public static async Task<Socket?> OriginateAsync(Socket upstream, string host, X509Certificate2Collection? trust, Action<string> failed,
        CancellationToken stop)
    {
        var tls = new SslStream(new NetworkStream(upstream, ownsSocket: false));
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(HandshakeTimeout);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors, trust),
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException or SocketException)
        {
            failed(e.Message);
            await tls.DisposeAsync().ConfigureAwait(false);
            ProxyConnection.Reset(upstream);
            return null;
        }

        return await BridgeAsync(upstream, tls).ConfigureAwait(false);
    }

    /// <summary>The system's verdict, or with a trust list: the name matches and the chain ends at one of its certificates (or is one of them).</summary>
    internal static bool Trusted(X509Certificate? presented, SslPolicyErrors errors, X509Certificate2Collection? trust)
    {
        if (trust is null || presented is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var certificate = new X509Certificate2(presented);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <summary>Starts copying between <paramref name="tls"/> and one end of a loopback pair; returns the other end.</summary>
    private static async Task<Socket?> BridgeAsync(Socket tcp, SslStream tls)
    {
        (Socket Near, Socket Far)? pair = await PairAsync().ConfigureAwait(false);
        if (pair is not { } both)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            ProxyConnection.Reset(tcp);
            return null;
        }

        _ = RunAsync(tcp, tls, both.Far);
        return both.Near;
    }

    private static async Task RunAsync(Socket tcp, SslStream tls, Socket far)
    {
        var failed = 0;
        void Fail()
        {
            // Either way failing resets both: a reset is forwarded as a reset.
            if (Interlocked.Exchange(ref failed, 1) == 0)
            {
                ProxyConnection.Reset(far);
                ProxyConnection.Reset(tcp);
            }
        }

        async Task FromTlsAsync()
        {
            var buffer = new byte[Chunk];
            try
            {
                int read;
                while ((read = await tls.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    await far.SendAsync(buffer.AsMemory(0, read), SocketFlags.None).ConfigureAwait(false);
                }

                far.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                Fail();
            }
        }

        async Task ToTlsAsync()
        {
            var buffer = new byte[Chunk];
            try
            {
                int read;
                while ((read = await far.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)) > 0)
                {
                    await tls.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                }

                await tls.ShutdownAsync().ConfigureAwait(false);
                tcp.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                Fail();
            }
        }

        await Task.WhenAll(FromTlsAsync(), ToTlsAsync()).ConfigureAwait(false);
        await tls.DisposeAsync().ConfigureAwait(false);
        far.Dispose();
        tcp.Dispose();
    }

    /// <summary>
    /// Two connected TCP sockets on loopback (TCP rather than a Unix pair, so a reset crosses as a
    /// reset). The accepted end must be the one just connected; a stranger racing for the port is reset.
    /// </summary>
    private static async Task<(Socket, Socket)?> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var near = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(4);
            await near.ConnectAsync(listener.LocalEndPoint!).ConfigureAwait(false);
            for (var i = 0; i < 4; i++)
            {
                using var timeout = new CancellationTokenSource(HandshakeTimeout);
                var far = await listener.AcceptAsync(timeout.Token).ConfigureAwait(false);
                if (far.RemoteEndPoint!.Equals(near.LocalEndPoint))
                {
                    far.NoDelay = true;
                    return (near, far);
                }

                ProxyConnection.Reset(far);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // Out of ports or descriptors: this connection is reset, the proxy goes on.
        }

        near.Dispose();
        return null;
    }
}
