using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Server.Admission;

namespace Shout.Server;

/// <summary>
/// The first step of a stop, before Kestrel closes its listeners and asks connections to finish:
/// stop taking new connections without resetting any. A listener shared with the process that
/// holds it (systemd socket activation) is released: its queue stays with the holder for the next
/// instance. An SO_REUSEPORT listener stops receiving SYNs (<see cref="ListenerDetach"/>), its
/// accept queue is served to the end, then it is closed. Then connections accepted a moment ago
/// get <see cref="Settle"/> for their first bytes to arrive, so the drain answers them instead of
/// closing them unheard.
/// </summary>
internal sealed partial class ListenerHandover(ListenSockets sockets, ConnectionAdmission admission, ILogger<ListenerHandover> logger)
    : IHostedLifecycleService
{
    /// <summary>How long a just-accepted connection may take to deliver its first bytes before the drain starts.</summary>
    internal static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(250);

    /// <summary>A handshake under way when the SYN filter went on completes within a round trip; this is generous.</summary>
    private static readonly TimeSpan HandshakeGrace = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan QueuePoll = TimeSpan.FromMilliseconds(5);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var held = sockets.Held;
        var grouped = sockets.Grouped;
        if (held.Count == 0 && grouped.Count == 0)
        {
            return;
        }

        try
        {
            foreach (var socket in held)
            {
                // Our descriptor only: the holder's stays open and keeps queueing for the next instance.
                socket.Dispose();
            }

            if (grouped.Count > 0)
            {
                await LeaveGroupAsync(grouped, cancellationToken);
            }

            if (admission.Open > 0)
            {
                await Task.Delay(Settle, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: Kestrel closes what is left.
        }
    }

    private async Task LeaveGroupAsync(IReadOnlyList<Socket> grouped, CancellationToken cancellationToken)
    {
        var detached = grouped.Where(ListenerDetach.StopNewConnections).ToList();
        if (detached.Count < grouped.Count)
        {
            Log.DetachFailed(logger, grouped.Count - detached.Count);
        }

        await Task.Delay(HandshakeGrace, cancellationToken);

        // Kestrel's accept loop keeps running until the socket closes; wait until it has taken every queued connection.
        while (detached.Sum(s => Math.Max(0, ListenerDetach.QueuedConnections(s))) > 0)
        {
            await Task.Delay(QueuePoll, cancellationToken);
        }

        foreach (var socket in detached)
        {
            socket.Dispose();
        }

        Log.LeftGroup(logger, detached.Count);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(401, LogLevel.Information, "left the SO_REUSEPORT group on {Count} listener(s): no new connections, the accept queue served")]
        public static partial void LeftGroup(ILogger logger, int count);

        [LoggerMessage(402, LogLevel.Warning, "could not attach the SYN filter to {Count} SO_REUSEPORT listener(s); connections queued to them at the close may be reset")]
        public static partial void DetachFailed(ILogger logger, int count);
    }
}
