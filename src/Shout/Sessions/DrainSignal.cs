namespace Shout.Sessions;

/// <summary>
/// When the open sessions are told to finish: after the listeners were handed over and the open
/// connections had their moment to finish by themselves (<c>ListenerHandover</c>), not at the first
/// sign of a stop. Every session is told the one way, through one list (<see cref="Join"/>): stream
/// sessions (rather than each through Kestrel's per-connection request), WebSocket sessions (an
/// upgraded HTTP request Kestrel cannot ask; the host's ApplicationStopping comes first and would
/// close a socket upgraded a moment ago before its first message arrived) and each UDP socket.
/// </summary>
internal sealed partial class DrainSignal
{
    /// <summary>Begins the drain (once; later calls do nothing).</summary>
    public void Begin() => DrainMembers();
}
