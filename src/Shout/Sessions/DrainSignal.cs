namespace Shout.Sessions;

/// <summary>
/// When the open sessions are told to finish: after the listeners were handed over and the open
/// connections had their moment to finish by themselves (<c>ListenerHandover</c>), not at the first
/// sign of a stop. Stream sessions are told through one list (<see cref="Join"/>) rather than each
/// through Kestrel's per-connection request; a WebSocket, an upgraded HTTP request Kestrel cannot
/// ask, waits for <see cref="Token"/> instead of the host's ApplicationStopping, which comes first
/// and would close a socket upgraded a moment ago before its first message arrived.
/// </summary>
internal sealed partial class DrainSignal : IDisposable
{
    private readonly CancellationTokenSource _drain = new();

    /// <summary>Cancelled when the drain begins.</summary>
    public CancellationToken Token => _drain.Token;

    /// <summary>Begins the drain (once; later calls do nothing).</summary>
    public void Begin()
    {
        if (!_drain.IsCancellationRequested)
        {
            _drain.Cancel();
        }

        DrainMembers();
    }

    public void Dispose() => _drain.Dispose();
}
