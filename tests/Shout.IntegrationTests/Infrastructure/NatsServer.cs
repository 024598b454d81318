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
    private ProcessHarness _process;

    private NatsServer(int port, string directory, ProcessHarness process)
    {
        Port = port;
        _directory = directory;
        _process = process;
    }

    public int Port { get; }

    public Uri Url => new($"nats://127.0.0.1:{Port}");

    public static async Task<NatsServer> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("shout-nats-").FullName;
        var port = FreePort();
        return new NatsServer(port, directory, await LaunchAsync(port, directory));
    }

    /// <summary>SIGKILL: no goodbye to the clients.</summary>
    public async Task KillAsync()
    {
        _process.Signal(9);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    public async Task StartAgainAsync()
    {
        await _process.DisposeAsync();
        _process = await LaunchAsync(Port, _directory);
    }

    private static async Task<ProcessHarness> LaunchAsync(int port, string directory)
    {
        var process = ProcessHarness.Start(Tools.Require("nats-server"),
            ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-sd", directory], directory);
        await process.WaitForLineAsync("Server is ready", TimeSpan.FromSeconds(20), stderr: true);
        return process;
    }

    private static int FreePort()
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
