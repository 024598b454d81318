using System.Runtime.InteropServices;
using Shout.Server;

namespace Shout.Cli.Commands;

/// <summary>
/// SIGHUP reloads the server's settings (<see cref="ShoutServer.Reload"/>: certificate, access lists,
/// limits, log level) instead of ending the process. Registered before the server exists, so a
/// SIGHUP during start-up is ignored rather than fatal.
/// </summary>
internal sealed class ReloadSignal : IDisposable
{
    private readonly PosixSignalRegistration _registration;
    private ShoutServer? _server;

    public ReloadSignal() => _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);

    public void Attach(ShoutServer server) => Volatile.Write(ref _server, server);

    public void Dispose() => _registration.Dispose();

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Volatile.Read(ref _server) is { } server)
        {
            // Off the signal thread: loading a certificate reads files.
            _ = Task.Run(server.Reload);
        }
    }
}
