using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Matrix;

/// <summary>A TCP, Unix or TLS client on a raw socket, from a chosen local address, the TLS certificate pinned.</summary>
internal sealed class StreamMatrixClient : MatrixClient
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private byte[]? _receiveBuffer;

    private StreamMatrixClient(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    public override int? LocalPort => (_socket.LocalEndPoint as IPEndPoint)?.Port;

    public static Task<MatrixClient> ConnectAsync(TestServer server, MatrixTransport transport, IPAddress from) =>
        ConnectAsync(server.Server.Endpoints.First(e => e.Transport != ShoutTransport.Udp), transport.IsTls ? Pinned(server) : null, from);

    /// <summary>Dials <paramref name="endpoint"/>; with <paramref name="validate"/>, over TLS trusting what it trusts.</summary>
    public static async Task<MatrixClient> ConnectAsync(ShoutEndpoint endpoint, RemoteCertificateValidationCallback? validate, IPAddress from)
    {
        var socket = endpoint.Transport == ShoutTransport.Unix
            ? await RawClient.ConnectAsync(endpoint)
            : await RawClient.ConnectFromAsync(endpoint, from);
        if (validate is null)
        {
            return new StreamMatrixClient(socket, new NetworkStream(socket, ownsSocket: false));
        }

        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            using var timeout = new CancellationTokenSource(Deadline);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = validate,
            }, timeout.Token);
        }
        catch (Exception e) when (e is IOException or AuthenticationException or SocketException or OperationCanceledException)
        {
            await ssl.DisposeAsync();
            socket.Dispose();
            throw new RefusedException($"TLS handshake failed: {e.Message}", e);
        }

        return new StreamMatrixClient(socket, ssl);
    }

    /// <summary>Trusts exactly the server's certificate, by its SHA-256 fingerprint.</summary>
    public static RemoteCertificateValidationCallback Pinned(TestServer server) =>
        Pinned(server.Server.TlsCertificate?.GetCertHash(HashAlgorithmName.SHA256)
            ?? throw new Xunit.Sdk.XunitException("the server has no TLS certificate (ShoutServer.TlsCertificate is null)"));

    /// <summary>Trusts exactly the certificate whose SHA-256 hash is <paramref name="expected"/>.</summary>
    public static RemoteCertificateValidationCallback Pinned(byte[] expected) =>
        (_, certificate, _, _) => certificate is not null && certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(expected);

    public override async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await _stream.WriteAsync(data, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    public override async Task<Ending> ReceiveAsync(int count, TimeSpan? quiet = null)
    {
        using var deadline = new CancellationTokenSource(quiet ?? Deadline);
        var output = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            while (output.Length < count)
            {
                var read = await _stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - output.Length)), deadline.Token);
                if (read == 0)
                {
                    await CloseAsync();
                    return new Ending(output.ToArray(), EndKind.Closed, null, "EOF");
                }

                output.Write(buffer, 0, read);
            }

            return new Ending(output.ToArray(), EndKind.Open, null, "");
        }
        catch (OperationCanceledException)
        {
            return new Ending(output.ToArray(), EndKind.Open, null, $"nothing more within {(quiet ?? Deadline).TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or ObjectDisposedException)
        {
            return new Ending(output.ToArray(), EndKind.Reset, null, e.Message);
        }
    }

    public override async Task<byte[]?> ReceiveSomeAsync(CancellationToken cancellationToken)
    {
        // One buffer per client: a new 64 KiB array per read made streaming clients' garbage the test process's main CPU cost.
        _receiveBuffer ??= new byte[64 * 1024];
        var read = await _stream.ReadAsync(_receiveBuffer, cancellationToken);
        return read == 0 ? null : _receiveBuffer[..read];
    }

    public override async Task CloseAsync()
    {
        try
        {
            if (_stream is SslStream ssl)
            {
                await ssl.ShutdownAsync();
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Already reset or closed: nothing left to end.
        }
    }

    public override void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public override async Task SendRawAsync(ReadOnlyMemory<byte> bytes) => await _socket.SendAsync(bytes);

    public override Socket RawSocket => _socket;

    public override async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
