using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Shout.Endpoints;

namespace Shout.Client;

/// <summary>The client side of a TLS handshake: verify by default, or pin, or (asked for) trust anything.</summary>
internal static class TlsDialer
{
    public static async Task<SslStream> AuthenticateAsync(Stream transport, ShoutEndpoint endpoint, ShoutClientOptions options,
        CancellationToken cancellationToken)
    {
        var counted = new ReadCountingStream(transport);
        var ssl = new SslStream(counted, leaveInnerStreamOpen: false);
        var policyErrors = SslPolicyErrors.None;
        var sawCertificate = false;
        var authentication = new SslClientAuthenticationOptions
        {
            // Names the host for SNI and for checking the certificate (an IP literal is checked against its IP SANs).
            TargetHost = endpoint.Host,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                policyErrors = errors;
                sawCertificate = true;
                return Accept(certificate, errors, options);
            },
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.TlsHandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(authentication, timeout.Token);
            return ssl;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await ssl.DisposeAsync();
            throw new TimeoutException($"the TLS handshake with {endpoint} did not finish within {options.TlsHandshakeTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (!sawCertificate && counted.BytesRead > 0 && e is AuthenticationException or IOException)
        {
            // No certificate came back: whatever answered does not speak TLS.
            await ssl.DisposeAsync();
            throw new AuthenticationException(NotTls(endpoint), e);
        }
        catch (AuthenticationException e)
        {
            await ssl.DisposeAsync();
            throw new AuthenticationException(Explain(e, policyErrors, options), e);
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether the options accept this certificate: the pin, or --insecure, or a clean verification.</summary>
    public static bool Accept(X509Certificate? certificate, SslPolicyErrors errors, ShoutClientOptions options)
    {
        if (options.Pin is { } pin)
        {
            return certificate is not null && pin.Matches(certificate);
        }

        return options.Insecure || errors == SslPolicyErrors.None;
    }

    /// <summary>The line for a peer that answered a TLS handshake with something else (a plain port).</summary>
    public static string NotTls(ShoutEndpoint endpoint) =>
        $"{endpoint} did not answer the TLS handshake (is it a plain {(endpoint.Transport == ShoutTransport.WebSocket ? "ws://" : "TCP")} port?)";

    /// <summary>Why a handshake failed, in the words of the options the user gave.</summary>
    public static string Explain(AuthenticationException e, SslPolicyErrors errors, ShoutClientOptions options) =>
        options.Pin is { } pin ? $"the server's certificate is not the pinned one ({pin})"
        : errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors) ? "the server's certificate is not trusted (self-signed? use --pin FINGERPRINT, or --insecure)"
        : errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) ? "the server's certificate is for another host name"
        : $"TLS handshake failed: {e.Message}";
}
