using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Sessions;
using Shout.Transports;

namespace Shout.Hosting;

/// <summary>
/// The first step of a stop, before Kestrel closes its listeners and asks connections to finish:
/// stop taking new connections without resetting any. A listener shared with the process that
/// holds it (systemd socket activation) is released: its queue stays with the holder for the next
/// instance. An SO_REUSEPORT listener stops receiving SYNs (<see cref="ListenerDetach"/>), its
/// accept queue is served to the end, then it is closed. Then the open connections get up to
/// <see cref="MaxSettle"/> (half the shutdown timeout if that is less) to finish on their own before
/// the drain answers and closes the rest: a client that connected a moment ago may not have sent
/// its bytes yet (a loaded client was seen taking a second), and the drain would close it unheard.
/// </summary>
internal sealed partial class ListenerHandover(ListenSockets sockets, ShoutMetrics metrics, SessionAdmission admission, DrainSignal drain, ShoutServerOptions options,
    ILogger<ListenerHandover> logger)
    : IHostedLifecycleService
{
    /// <summary>The longest the open connections are left to finish on their own before the drain.</summary>
    internal static readonly TimeSpan MaxSettle = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(10);

    /// <summary>A handshake under way when the SYN filter went on completes within a round trip; this is generous.</summary>
    private static readonly TimeSpan HandshakeGrace = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan QueuePoll = TimeSpan.FromMilliseconds(5);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var held = sockets.Held;
        var grouped = sockets.Grouped;
        if (held.Count == 0 && grouped.Count == 0)
        {
            drain.Begin();
            return;
        }

        try
        {
            foreach (var socket in held)
            {
                sockets.Release(socket);
            }

            if (held.Count > 0)
            {
                Log.Released(logger, held.Count, (int)metrics.ActiveStreamConnections);
            }

            if (grouped.Count > 0)
            {
                await LeaveGroupAsync(grouped, cancellationToken);
            }

            await SettleAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: Kestrel closes what is left.
        }
        finally
        {
            drain.Begin();
        }
    }

    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        var bound = options.ShutdownTimeout == Timeout.InfiniteTimeSpan
            ? MaxSettle
            : TimeSpan.FromTicks(Math.Min(options.ShutdownTimeout.Ticks / 2, MaxSettle.Ticks));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // Counted from admission, not from the session's start: a TLS connection still in its handshake
        // is open too, and the drain would close it unheard right after the handshake.
        while (admission.OpenConnections > 0 && System.Diagnostics.Stopwatch.GetElapsedTime(started) < bound)
        {
            await Task.Delay(SettlePoll, cancellationToken);
        }

        Log.Settled(logger, admission.OpenConnections, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task LeaveGroupAsync(IReadOnlyList<Socket> grouped, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
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

        Log.LeftGroup(logger, detached.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(LogEvents.ReusePortLeft, LogLevel.Information, "left the SO_REUSEPORT group on {Count} listener(s) in {Milliseconds:F0} ms: no new connections, the accept queue served", EventName = "ReusePortLeft")]
        public static partial void LeftGroup(ILogger logger, int count, double milliseconds);

        [LoggerMessage(LogEvents.PassedSocketsReleased, LogLevel.Information, "released {Count} passed socket(s) to their holder: new connections wait there for the next instance; {Open} open here", EventName = "PassedSocketsReleased")]
        public static partial void Released(ILogger logger, int count, int open);

        [LoggerMessage(LogEvents.ConnectionsStillOpen, LogLevel.Information, "{Open} connection(s) still open after {Milliseconds:F0} ms; draining them", EventName = "ConnectionsStillOpen")]
        public static partial void Settled(ILogger logger, int open, double milliseconds);

        [LoggerMessage(LogEvents.SynFilterFailed, LogLevel.Warning, "could not attach the SYN filter to {Count} SO_REUSEPORT listener(s); connections queued to them at the close may be reset", EventName = "SynFilterFailed")]
        public static partial void DetachFailed(ILogger logger, int count);
    }
}
