using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace Shout.Hosting;

/// <summary>
/// Tells systemd (a <c>Type=notify</c> unit, through <c>NOTIFY_SOCKET</c>) when the server is
/// ready (every endpoint listening), when it reloads and when it stops. Does nothing when
/// <c>NOTIFY_SOCKET</c> is not set. The host's own lifetime still owns the signals.
/// </summary>
internal sealed class SystemdNotify(IHostApplicationLifetime lifetime) : IHostedService
{
    private readonly SystemdNotifier _notifier = new();

    public bool IsEnabled => _notifier.IsEnabled;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_notifier.IsEnabled)
        {
            // ApplicationStarted fires after Kestrel and the UDP service have bound everything.
            lifetime.ApplicationStarted.Register(() => Send("READY=1\nSTATUS=serving"));
            lifetime.ApplicationStopping.Register(() => Send("STOPPING=1\nSTATUS=draining"));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Before a reload: systemd (Type=notify-reload) waits for the READY=1 of <see cref="Reloaded"/>.</summary>
    public void Reloading()
    {
        // MONOTONIC_USEC is CLOCK_MONOTONIC, which is what Stopwatch reads on Linux.
        var microseconds = Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);
        Send(string.Create(CultureInfo.InvariantCulture, $"RELOADING=1\nMONOTONIC_USEC={microseconds}"));
    }

    public void Reloaded(string status) => Send($"READY=1\nSTATUS={status}");

    private void Send(string state)
    {
        if (_notifier.IsEnabled)
        {
            _notifier.Notify(new ServiceState(state));
        }
    }
}
