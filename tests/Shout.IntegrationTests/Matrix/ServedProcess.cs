using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Matrix;

/// <summary>
/// A real <c>shout serve --verbose</c> process serving one matrix transport, and a dialer for it:
/// the bound address and (TLS, WSS) the certificate fingerprint are read from its log.
/// </summary>
internal sealed partial class ServedProcess : IAsyncDisposable
{
    private readonly Func<IPAddress, Task<MatrixClient>> _dial;

    private ServedProcess(ProcessHarness process, Func<IPAddress, Task<MatrixClient>> dial, string address,
        System.Net.Security.RemoteCertificateValidationCallback? pin)
    {
        Process = process;
        Pin = pin;
        _dial = dial;
        Address = address;
    }

    public ProcessHarness Process { get; }

    /// <summary>Trusts the server's certificate only (TLS and WSS), by the fingerprint it logged.</summary>
    public System.Net.Security.RemoteCertificateValidationCallback? Pin { get; }

    /// <summary>The address the clients dial, as the server logged it.</summary>
    public string Address { get; }

    public static Task<ServedProcess> StartAsync(MatrixTransport transport, params string[] extra) => StartAsync(transport, verbose: true, extra);

    /// <summary>Starts the server; without <paramref name="verbose"/> it logs no line per connection (for tests of thousands).</summary>
    public static async Task<ServedProcess> StartAsync(MatrixTransport transport, bool verbose, string[] extra)
    {
        var unixPath = Path.Combine(Repo.TempDir(), "s.sock");
        string[] listen = transport.Name switch
        {
            "tcp4" => ["-l", "tcp://127.0.0.1:0"],
            "tcp6" => ["-l", "tcp://[::1]:0"],
            "unix" => ["-l", $"unix://{unixPath}"],
            "tls" => ["-l", "tls://127.0.0.1:0"],
            "ws" => ["-l", "tcp://127.0.0.1:0", "--web", "http://127.0.0.1:0"],
            "wss" => ["-l", "tcp://127.0.0.1:0", "--web", "https://127.0.0.1:0"],
            "udp" => ["-l", "udp://127.0.0.1:0"],
            _ => throw new ArgumentException($"{transport} has no serve process test here", nameof(transport)),
        };
        var prefix = transport.Name switch
        {
            "ws" => "http://127.0.0.1:",
            "wss" => "https://127.0.0.1:",
            "tcp4" => "tcp://127.0.0.1:",
            "tcp6" => "tcp://[::1]:",
            "unix" => "unix://",
            "udp" => "udp://127.0.0.1:",
            _ => "tls://127.0.0.1:",
        };
        string[] level = verbose ? ["--verbose"] : [];
        var process = ProcessHarness.StartShout(["serve", .. level, .. listen, .. extra]);
        try
        {
            var log = await process.WaitForOutputAsync(o => Listening().Matches(o).Any(m => m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30));
            var address = Listening().Matches(log).Select(m => m.Groups[1].Value).First(a => a.StartsWith(prefix, StringComparison.Ordinal));
            System.Net.Security.RemoteCertificateValidationCallback? pin = null;
            if (transport.IsTls)
            {
                log = await process.WaitForOutputAsync(o => FingerprintLine().IsMatch(o), TimeSpan.FromSeconds(30));
                var hex = FingerprintLine().Match(log).Groups[1].Value.Replace(":", "", StringComparison.Ordinal);
                pin = StreamMatrixClient.Pinned(Convert.FromHexString(hex));
            }

            Func<IPAddress, Task<MatrixClient>> dial = transport.IsWebSocket
                ? from => WebSocketMatrixClient.ConnectAsync(new UriBuilder(address) { Scheme = transport.IsTls ? "wss" : "ws", Path = "/ws" }.Uri, pin, from)
                : transport.IsDatagram ? from => Task.FromResult<MatrixClient>(DatagramMatrixClient.Connect(ShoutEndpoint.Parse(address), from))
                : from => StreamMatrixClient.ConnectAsync(ShoutEndpoint.Parse(address), pin, from);
            return new ServedProcess(process, dial, address, pin);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public Task<MatrixClient> OpenAsync(IPAddress from) => _dial(from);

    /// <summary>The web endpoint's address as logged (http or https), for <c>/metrics</c>; null when it serves none.</summary>
    public Uri? WebAddress => Listening().Matches(Process.Stdout).Select(m => m.Groups[1].Value)
        .Where(a => a.StartsWith("http", StringComparison.Ordinal)).Select(a => new Uri(a)).FirstOrDefault();

    /// <summary>The server process's resident set size now, from /proc.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{Process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// The web endpoint's address once it is logged: the server logs each listener as it binds, and
    /// starting waited only for the one it was asked about, so the web line may still come.
    /// </summary>
    public async Task<Uri> WebAddressAsync()
    {
        await Process.WaitForOutputAsync(_ => WebAddress is not null, TimeSpan.FromSeconds(30));
        return WebAddress!;
    }

    /// <summary>The sum over every series of the metric whose name ends with <paramref name="suffix"/>, from <c>/metrics</c>.</summary>
    public async Task<double> MetricAsync(HttpClient http, string suffix)
    {
        var text = await http.GetStringAsync(new Uri(await WebAddressAsync(), "/metrics"));
        return PrometheusText.Parse(text).Values.Where(f => f.Name.EndsWith(suffix, StringComparison.Ordinal)).SelectMany(f => f.Samples).Sum(s => s.Value);
    }

    /// <summary>The connections of the process's log: id, transport, remote, and when closed its reason and bytes.</summary>
    public IReadOnlyList<LoggedConnection> Connections()
    {
        var log = Process.Stdout;
        var closed = ClosedLine().Matches(log).ToDictionary(m => m.Groups["id"].Value);
        return [.. AcceptedLine().Matches(log).Select(m =>
        {
            var id = m.Groups["id"].Value;
            var close = closed.GetValueOrDefault(id);
            return new LoggedConnection(id, m.Groups["transport"].Value, m.Groups["remote"].Value, close?.Groups["reason"].Value,
                close is null ? -1 : long.Parse(close.Groups["in"].Value, CultureInfo.InvariantCulture),
                close is null ? -1 : long.Parse(close.Groups["out"].Value, CultureInfo.InvariantCulture));
        })];
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    [GeneratedRegex(@"listening on (\S+)")]
    private static partial Regex Listening();

    [GeneratedRegex(@"SHA-256 fingerprint ([0-9A-Fa-f:]+)")]
    private static partial Regex FingerprintLine();

    [GeneratedRegex(@"\] (?<id>\S+) (?<transport>\w+) accepted from (?<remote>\S*)")]
    private static partial Regex AcceptedLine();

    [GeneratedRegex(@"\] (?<id>\S+) closed by \w+ \((?<reason>\w+)\): (?<in>\d+) bytes in, (?<out>\d+) bytes out")]
    private static partial Regex ClosedLine();
}

/// <summary>One connection as the server's Debug log tells it; bytes −1 while it is open.</summary>
internal sealed record LoggedConnection(string Id, string Transport, string Remote, string? Reason, long BytesIn, long BytesOut);
