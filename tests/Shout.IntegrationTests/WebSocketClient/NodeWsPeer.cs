using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;
using Shout.Transports.Tls;

namespace Shout.IntegrationTests.WebSocketClient;

/// <summary>
/// A WebSocket server Shout did not write: <c>tests/peers/ws-peer.mjs</c> on the npm ws package,
/// run by node on 127.0.0.1 port 0 (plain, or over TLS with a fresh self-signed certificate).
/// Its behaviour is chosen by the request path; see the script. Killed on dispose.
/// </summary>
internal sealed partial class NodeWsPeer : IAsyncDisposable
{
    private readonly ProcessHarness _process;
    private readonly string? _certificateDirectory;

    private NodeWsPeer(ProcessHarness process, int port, string? certificateDirectory, string? fingerprint)
    {
        _process = process;
        Port = port;
        _certificateDirectory = certificateDirectory;
        Fingerprint = fingerprint;
    }

    public int Port { get; }

    /// <summary>The SHA-256 fingerprint of the TLS certificate (for <c>--pin</c>); null without TLS.</summary>
    public string? Fingerprint { get; }

    public static async Task<NodeWsPeer> StartAsync(bool tls = false)
    {
        var node = Tools.Require("node");
        var dir = Path.Combine(Repo.Root, "tests", "peers");
        if (!File.Exists(Path.Combine(dir, "node_modules", "ws", "package.json")))
        {
            Assert.Fail("the npm ws package is not installed in tests/peers; run scripts/install-test-tools (scripts/test runs it)");
        }

        string[] args = [Path.Combine(dir, "ws-peer.mjs")];
        string? certificates = null;
        string? fingerprint = null;
        if (tls)
        {
            certificates = Repo.TempDir();
            using var certificate = ServerCertificates.CreateSelfSigned();
            using var key = certificate.GetECDsaPrivateKey()!;
            await File.WriteAllTextAsync(Path.Combine(certificates, "cert.pem"), certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(certificates, "key.pem"), key.ExportPkcs8PrivateKeyPem());
            fingerprint = ServerCertificates.Fingerprint(certificate);
            args = [.. args, Path.Combine(certificates, "cert.pem"), Path.Combine(certificates, "key.pem")];
        }

        var process = ProcessHarness.Start(node, args, workingDirectory: dir);
        var output = await process.WaitForOutputAsync(o => Listening().IsMatch(o), TimeSpan.FromSeconds(20));
        var port = int.Parse(Listening().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        return new NodeWsPeer(process, port, certificates, fingerprint);
    }

    /// <summary>The peer's address for <paramref name="path"/>: ws://, or wss:// when it runs TLS.</summary>
    public ShoutEndpoint Endpoint(string path) =>
        ShoutEndpoint.Parse($"{(Fingerprint is null ? "ws" : "wss")}://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}{path}");

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        if (_certificateDirectory is not null)
        {
            Directory.Delete(_certificateDirectory, recursive: true);
        }
    }

    [GeneratedRegex(@"listening (\d+)")]
    private static partial Regex Listening();
}
