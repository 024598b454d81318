using System.Net;
using System.Net.Sockets;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's <c>nats-server</c> on a free loopback port, in a temp directory, for the room bus
/// tests; killed on dispose. <see cref="KillAsync"/> and <see cref="StartAgainAsync"/> take it away
/// and bring it back on the same port, as an outage would.
/// </summary>
internal sealed class NatsServer : IAsyncDisposable
{
    private readonly string _directory;
    private string[] _options;
    private ProcessHarness _process;

    private NatsServer(int port, string directory, string[] options, ProcessHarness process, string scheme)
    {
        Port = port;
        _directory = directory;
        _options = options;
        _process = process;
        Url = new($"{scheme}://127.0.0.1:{Port}");
    }

    public int Port { get; }

    public Uri Url { get; }

    /// <summary>What nats-server wrote so far (it logs to stderr).</summary>
    public string Log => _process.Stderr;

    /// <param name="options">More nats-server options, e.g. <c>--user U --pass P</c>, <c>--auth TOKEN</c>.</param>
    /// <param name="config">A configuration file's text (<c>-c</c>), e.g. a <c>tls { }</c> block; paths in it may use <c>{dir}</c> for the server's temp directory.</param>
    /// <param name="files">Files to write into that directory first (name, text), e.g. PEM certificates.</param>
    /// <param name="scheme">The scheme of <see cref="Url"/>: <c>tls</c> for a server that requires TLS.</param>
    public static async Task<NatsServer> StartAsync(string[]? options = null, string? config = null,
        IReadOnlyDictionary<string, string>? files = null, string scheme = "nats")
    {
        var directory = Directory.CreateTempSubdirectory("shout-nats-").FullName;
        foreach (var (name, text) in files ?? new Dictionary<string, string>())
        {
            await File.WriteAllTextAsync(Path.Combine(directory, name), text);
        }

        var all = options ?? [];
        if (config is not null)
        {
            var path = Path.Combine(directory, "nats.conf");
            await File.WriteAllTextAsync(path, config.Replace("{dir}", directory, StringComparison.Ordinal));
            all = [.. all, "-c", path];
        }

        var port = FreePort();
        return new NatsServer(port, directory, all, await LaunchAsync(port, directory, all), scheme);
    }

    /// <summary>SIGKILL: no goodbye to the clients.</summary>
    public async Task KillAsync()
    {
        _process.Signal(9);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <param name="options">Other nats-server options from now on (e.g. <c>-js</c> where it had none); the same ones when null.</param>
    public async Task StartAgainAsync(string[]? options = null)
    {
        _options = options ?? _options;
        await _process.DisposeAsync();
        _process = await LaunchAsync(Port, _directory, _options);
    }

    private static async Task<ProcessHarness> LaunchAsync(int port, string directory, string[] options)
    {
        var process = ProcessHarness.Start(Tools.Require("nats-server"),
            ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", directory, .. options], directory);
        await process.WaitForLineAsync("Server is ready", TimeSpan.FromSeconds(20), stderr: true);
        return process;
    }

    /// <summary>A loopback port nothing listens on (for a server that is down).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
