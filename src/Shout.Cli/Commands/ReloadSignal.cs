using System.Runtime.InteropServices;
using Shout.Hosting;

namespace Shout.Cli.Commands;

/// <summary>
/// SIGHUP reloads the server's settings (<see cref="ShoutServer.Reload"/>: certificate, access lists,
/// limits, log level) instead of ending the process. Registered before the server exists, so a
/// SIGHUP during start-up is not fatal; one that arrives before the server is attached (it listens and
/// logs so a moment earlier) is held and applied once it is, so a reload sent right after start is
/// never lost.
/// </summary>
internal sealed class ReloadSignal : IDisposable
{
    private readonly PosixSignalRegistration _registration;
    private readonly Lock _gate = new();
    private ShoutServer? _server;
    private bool _pending;

    public ReloadSignal() => _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);

    public void Attach(ShoutServer server)
    {
        lock (_gate)
        {
            _server = server;
            if (_pending)
            {
                _pending = false;
                _ = Task.Run(server.Reload);
            }
        }
    }

    public void Dispose() => _registration.Dispose();

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        lock (_gate)
        {
            if (_server is { } server)
            {
                // Off the signal thread: loading a certificate reads files.
                _ = Task.Run(server.Reload);
            }
            else
            {
                _pending = true;
            }
        }
    }
}
