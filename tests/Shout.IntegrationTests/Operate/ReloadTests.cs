using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Operate;

/// <summary>
/// SIGHUP (and <c>POST /reload</c>) re-read the settings of a running <c>shout serve</c>: new
/// connections see the new certificate, access lists and limits; open connections keep going.
/// </summary>
public sealed partial class ReloadTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Sighup_serves_a_new_certificate_to_new_handshakes_keeps_open_ones_and_keeps_the_old_one_when_the_new_is_broken()
    {
        var dir = Repo.TempDir();
        var (certPath, keyPath) = (Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"));
        using var first = WriteCertificate(certPath, keyPath, "CN=first");
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tls://127.0.0.1:0", "--tls-cert", certPath, "--tls-key", keyPath);
        var port = int.Parse(TlsListeningLine().Match(await server.WaitForOutputAsync(o => TlsListeningLine().IsMatch(o), Startup)).Groups[1].Value,
            CultureInfo.InvariantCulture);

        await using var open = await TlsClient.ConnectAsync(port);
        Assert.Equal(first.Thumbprint, open.Certificate.Thumbprint);
        Assert.Equal("ONE", await open.ExchangeAsync("one"));

        using var second = WriteCertificate(certPath, keyPath, "CN=second");
        server.Signal(1);
        await server.WaitForLineAsync("reload: TLS certificate CN=second", Step);
        await using (var fresh = await TlsClient.ConnectAsync(port))
        {
            Assert.Equal(second.Thumbprint, fresh.Certificate.Thumbprint);
            Assert.Equal("NEW", await fresh.ExchangeAsync("new"));
        }

        Assert.Equal("TWO", await open.ExchangeAsync("two"));

        await File.WriteAllTextAsync(certPath, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
        server.Signal(1);
        var log = await server.WaitForOutputAsync(o => o.Split('\n').Count(l => l.Contains("reload done", StringComparison.Ordinal)) >= 2, Step);
        var errors = log.Split('\n').Where(l => l.Contains("reload: ", StringComparison.Ordinal) && l.Contains("keeping the current certificate", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains(certPath, errors[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);

        await using (var after = await TlsClient.ConnectAsync(port))
        {
            Assert.Equal(second.Thumbprint, after.Certificate.Thumbprint);
        }

        // A certificate with a key that is not its own (the cert file replaced, the key file not): one error
        // line, the old certificate kept. It used to throw past the reload, which then logged nothing at all.
        using var third = WriteCertificate(certPath, Path.Combine(dir, "other-key.pem"), "CN=third");
        server.Signal(1);
        log = await server.WaitForOutputAsync(o => o.Split('\n').Count(l => l.Contains("reload done", StringComparison.Ordinal)) >= 3, Step);
        errors = log.Split('\n').Where(l => l.Contains("reload: ", StringComparison.Ordinal) && l.Contains("keeping the current certificate", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains(certPath, errors[1], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
        await using (var after = await TlsClient.ConnectAsync(port))
        {
            Assert.Equal(second.Thumbprint, after.Certificate.Thumbprint);
        }

        Assert.Equal("THREE", await open.ExchangeAsync("three"));
        Assert.False(server.HasExited);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Sighup_applies_a_new_access_list_to_new_connections_only_and_a_broken_file_changes_nothing()
    {
        var dir = Repo.TempDir();
        var rules = Path.Combine(dir, "access.txt");
        await File.WriteAllTextAsync(rules, "# everyone for now\n");
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--access-file", rules, "-v");
        var endpoint = await server.WaitForTcpListeningAsync(Startup);
        var (two, three) = (IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"));

        using var open = await RawClient.ConnectFromAsync(endpoint, two);
        Assert.Equal("A", await ExchangeOpenAsync(open, "a"));

        await File.WriteAllTextAsync(rules, "deny 127.0.0.2\n");
        server.Signal(1);
        await server.WaitForLineAsync("reload: access lists: 0 allow and 1 deny rules", Step);

        Assert.Null(await OneShotAsync(endpoint, two, "refused"));
        Assert.Equal("WELCOME", await OneShotAsync(endpoint, three, "welcome"));
        Assert.Equal("B", await ExchangeOpenAsync(open, "b"));

        await File.WriteAllTextAsync(rules, "allow banana\n");
        server.Signal(1);
        var log = await server.WaitForOutputAsync(o => o.Split('\n').Count(l => l.Contains("reload done", StringComparison.Ordinal)) >= 2, Step);
        Assert.Single(log.Split('\n'), l => l.Contains("reload: ", StringComparison.Ordinal) && l.Contains("access.txt:1:", StringComparison.Ordinal)
            && l.Contains("nothing changed", StringComparison.Ordinal));
        Assert.Null(await OneShotAsync(endpoint, two, "still refused"));
        Assert.Equal("STILL WELCOME", await OneShotAsync(endpoint, three, "still welcome"));
        Assert.Equal("C", await ExchangeOpenAsync(open, "c"));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Reload_endpoint_is_off_by_default_and_when_on_reloads_limits_from_the_config_file()
    {
        var dir = Repo.TempDir();
        var config = Path.Combine(dir, "shout.json");
        await File.WriteAllTextAsync(config, """{ "Shout": { "MaxConnections": 100 } }""");
        await using (var plain = ProcessHarness.StartShout("serve", "--config", config, "--listen", "tcp://127.0.0.1:0", "--web", "http://127.0.0.1:0"))
        {
            using var http = new HttpClient { Timeout = Step };
            var response = await http.PostAsync(await WebAddressAsync(plain) + "reload", null);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var tokenFile = Path.Combine(dir, "reload-token");
        await File.WriteAllTextAsync(tokenFile, ReloadToken + "\n");
        await using var server = ProcessHarness.StartShout("serve", "--config", config, "--listen", "tcp://127.0.0.1:0",
            "--web", "http://127.0.0.1:0", "--reload-endpoint", "--reload-token-file", tokenFile);
        var reload = await WebAddressAsync(server) + "reload";
        var endpoint = await server.WaitForTcpListeningAsync(Step);
        using var held = await RawClient.ConnectAsync(endpoint);
        Assert.Equal("HELD", await ExchangeOpenAsync(held, "held"));

        await File.WriteAllTextAsync(config, """{ "Shout": { "MaxConnections": 1, "Verbose": true } }""");
        using (var http = new HttpClient { Timeout = Step })
        {
            var response = await PostReloadAsync(http, reload);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("reloaded: max connections 100 -> 1", body, StringComparison.Ordinal);
            Assert.Contains("reloaded: log level Information -> Debug", body, StringComparison.Ordinal);
        }

        // The open connection keeps its slot and its service; the next one is over the new limit.
        Assert.Equal("ERR server busy (max 1 connections)\n", await OneShotAsync(endpoint, IPAddress.Loopback, "extra"));
        Assert.Equal("STILL HELD", await ExchangeOpenAsync(held, "still held"));
        await server.WaitForLineAsync("refused from 127.0.0.1", Step);

        // The web port's connections count against the limit too (row 26): free the one slot for the next reload.
        held.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        await RawClient.ReadToEndAsync(held);

        await File.WriteAllTextAsync(config, """{ "Shout": { "MaxConnections": "many" } }""");
        using (var http = new HttpClient { Timeout = Step })
        {
            var response = await PostReloadAsync(http, reload);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Contains("nothing changed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Reload_endpoint_needs_a_token_and_a_token_needs_the_endpoint()
    {
        await using (var noToken = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--web", "http://127.0.0.1:0", "--reload-endpoint"))
        {
            Assert.Equal(1, await noToken.WaitForExitAsync(Step));
            Assert.Equal("shout: POST /reload needs a reload token (--reload-token-file FILE or SHOUT_RELOAD_TOKEN)", noToken.Stderr.Trim());
        }

        var dir = Repo.TempDir();
        var tokenFile = Path.Combine(dir, "reload-token");
        await File.WriteAllTextAsync(tokenFile, "short\n");
        await using (var shortToken = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--reload-endpoint", "--reload-token-file", tokenFile))
        {
            Assert.Equal(2, await shortToken.WaitForExitAsync(Step));
            Assert.Contains("the reload token is too short (5 characters; at least 16)", shortToken.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", shortToken.Stderr, StringComparison.Ordinal);
        }

        await File.WriteAllTextAsync(tokenFile, ReloadToken + "\n");
        await using (var endpointOff = ProcessHarness.StartShout("serve", "--listen", "tcp://127.0.0.1:0", "--reload-token-file", tokenFile))
        {
            Assert.Equal(2, await endpointOff.WaitForExitAsync(Step));
            Assert.Contains("add --reload-endpoint", endpointOff.Stderr, StringComparison.Ordinal);
        }

        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Sighup_warns_of_restart_only_settings_it_did_not_apply_and_does_not_report_an_unchanged_certificate()
    {
        var dir = Repo.TempDir();
        var (certPath, keyPath) = (Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"));
        using var certificate = WriteCertificate(certPath, keyPath, "CN=same");
        var config = Path.Combine(dir, "shout.json");
        await File.WriteAllTextAsync(config, """{ "Shout": { "MaxConnections": 100 } }""");
        await using var server = ProcessHarness.StartShout("serve", "--config", config, "--listen", "tls://127.0.0.1:0",
            "--tls-cert", certPath, "--tls-key", keyPath);
        await server.WaitForOutputAsync(o => TlsListeningLine().IsMatch(o), Startup);

        // The first reload with nothing changed reports nothing: not the certificate, not a restart.
        server.Signal(1);
        await server.WaitForLineAsync("reload done: 0 change(s), 0 error(s)", Step);

        await File.WriteAllTextAsync(config, """{ "Shout": { "MaxConnections": 50, "Mode": "line", "IdleTimeout": "30s" } }""");
        server.Signal(1);
        var log = await server.WaitForOutputAsync(o => o.Split('\n').Count(l => l.Contains("reload done", StringComparison.Ordinal)) >= 2, Step);
        Assert.DoesNotContain("TLS certificate CN=same from", log, StringComparison.Ordinal);
        Assert.Contains("reload: max connections 100 -> 50", log, StringComparison.Ordinal);
        var warning = Assert.Single(log.Split('\n'), l => l.Contains("not applied, restart needed:", StringComparison.Ordinal));
        Assert.Contains("warn", warning, StringComparison.Ordinal);
        Assert.EndsWith("not applied, restart needed: --mode stream -> line; --idle-timeout 300s -> 30s", warning.TrimEnd(), StringComparison.Ordinal);
        Assert.False(server.HasExited);
        Directory.Delete(dir, recursive: true);
    }

    private const string ReloadToken = "reload-token-for-tests-0123456789";

    /// <summary>POST /reload with the token; a 429 (one reload per second) is retried after its Retry-After.</summary>
    private static async Task<HttpResponseMessage> PostReloadAsync(HttpClient http, string reload)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, reload);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ReloadToken);
            var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt == 5)
            {
                return response;
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
            response.Dispose();
        }
    }

    [Fact]
    public async Task Sighup_keeps_the_certificate_generated_at_start_for_tls_and_https_and_reports_no_change()
    {
        // No --tls-cert: the certificate is made at start and shared by tls:// and --web https; a reload must
        // neither report it as changed nor make a new one (clients pin its fingerprint).
        await using var server = ProcessHarness.StartShout("serve", "--listen", "tls://127.0.0.1:0", "--web", "https://127.0.0.1:0");
        var port = int.Parse(TlsListeningLine().Match(await server.WaitForOutputAsync(o => TlsListeningLine().IsMatch(o), Startup)).Groups[1].Value,
            CultureInfo.InvariantCulture);
        string before;
        await using (var client = await TlsClient.ConnectAsync(port))
        {
            before = client.Certificate.Thumbprint;
        }

        for (var i = 1; i <= 2; i++)
        {
            server.Signal(1);
            var log = await server.WaitForOutputAsync(o => o.Split('\n').Count(l => l.Contains("reload done", StringComparison.Ordinal)) >= i, Step);
            Assert.Equal(i, log.Split('\n').Count(l => l.Contains("reload done: 0 change(s), 0 error(s)", StringComparison.Ordinal)));
            Assert.DoesNotContain("reload: TLS certificate", log, StringComparison.Ordinal);
            await using var client = await TlsClient.ConnectAsync(port);
            Assert.Equal(before, client.Certificate.Thumbprint);
        }
    }

    private static async Task<string> WebAddressAsync(ProcessHarness server) =>
        WebListeningLine().Match(await server.WaitForOutputAsync(o => WebListeningLine().IsMatch(o), Startup)).Groups[1].Value;

    /// <summary>Connects from <paramref name="local"/>, sends, half-closes, reads to the end; null when refused (closed or reset with nothing).</summary>
    private static async Task<string?> OneShotAsync(ShoutEndpoint endpoint, IPAddress local, string text)
    {
        try
        {
            using var socket = await RawClient.ConnectFromAsync(endpoint, local);
            await socket.SendAsync(Encoding.ASCII.GetBytes(text));
            socket.Shutdown(SocketShutdown.Send);
            var reply = Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(socket, Step));
            return reply.Length == 0 ? null : reply;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return null;
        }
    }

    private static async Task<string> ExchangeOpenAsync(Socket socket, string text)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(text));
        return Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(socket, Encoding.ASCII.GetByteCount(text.ToUpperInvariant()), Step));
    }

    private static X509Certificate2 WriteCertificate(string certPath, string keyPath, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        return certificate;
    }

    [GeneratedRegex(@"listening on tls://127\.0\.0\.1:(\d+)")]
    private static partial Regex TlsListeningLine();

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+/)")]
    private static partial Regex WebListeningLine();

    /// <summary>One TLS connection that remembers the certificate its handshake saw.</summary>
    private sealed class TlsClient : IAsyncDisposable
    {
        private readonly Socket _socket;
        private readonly SslStream _tls;

        private TlsClient(Socket socket, SslStream tls, X509Certificate2 certificate)
        {
            _socket = socket;
            _tls = tls;
            Certificate = certificate;
        }

        public X509Certificate2 Certificate { get; }

        public static async Task<TlsClient> ConnectAsync(int port)
        {
            var socket = await RawClient.ConnectAsync(ShoutEndpoint.ForTcp("127.0.0.1", port));
            X509Certificate2? seen = null;
            var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
            {
                seen = certificate is null ? null : new X509Certificate2(certificate);
                return seen is not null;
            });
            using var deadline = new CancellationTokenSource(Step);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, deadline.Token);
            return new TlsClient(socket, tls, seen!);
        }

        public async Task<string> ExchangeAsync(string text)
        {
            using var deadline = new CancellationTokenSource(Step);
            var bytes = Encoding.ASCII.GetBytes(text);
            await _tls.WriteAsync(bytes, deadline.Token);
            var buffer = new byte[bytes.Length];
            await _tls.ReadExactlyAsync(buffer, deadline.Token);
            return Encoding.ASCII.GetString(buffer);
        }

        public async ValueTask DisposeAsync()
        {
            await _tls.DisposeAsync();
            _socket.Dispose();
            Certificate.Dispose();
        }
    }
}
