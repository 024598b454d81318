using System.Net;
using System.Net.Sockets;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>The tutorial's Go server running on its hardcoded port 8080, its chatty stdout discarded.</summary>
internal sealed class TutorialServer : IAsyncDisposable
{
    private readonly ProcessHarness _process;

    private TutorialServer(ProcessHarness process) => _process = process;

    public static async Task<TutorialServer> StartAsync(string binary)
    {
        var process = ProcessHarness.Start("bash", ["-c", $"exec '{binary}' > /dev/null"]);
        var server = new TutorialServer(process);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var probe = await server.ConnectAsync();
                return server;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task<Socket> ConnectAsync()
    {
        if (_process.HasExited)
        {
            throw new Xunit.Sdk.XunitException($"the tutorial's server exited (is port 8080 taken?): {_process.Stderr}");
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port8080.Port), timeout.Token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
