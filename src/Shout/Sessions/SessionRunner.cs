namespace Shout.Sessions;

/// <summary>
/// The one owner of a session's life on every transport, as Kestrel's <c>KestrelConnection&lt;T&gt;</c>
/// wraps a connection's handler: it opens the session (<see cref="SessionLifecycle.Open"/>), runs
/// it, maps how it ended to exactly one <see cref="CloseReason"/> (<see cref="Reason"/>) and records
/// the end once. A session whose run is an object of its own (a WebSocket) is run whole by
/// <see cref="RunAsync"/>; the stream loop, whose idle connection must hold one state machine and no
/// more, and the UDP source table, whose sources are no task each, use the open/end pair
/// (<see cref="Open"/>, <see cref="Failed"/>, <see cref="End"/>). No transport records a session otherwise.
/// Thread-safe.
/// </summary>
internal sealed class SessionRunner(SessionLifecycle lifecycle)
{
    /// <summary>Records an admitted session, holding <paramref name="ticket"/>'s slot, and returns it.</summary>
    public Session Open(string id, TransportKind transport, string remote, SessionAdmission.Ticket? ticket) =>
        lifecycle.Open(id, transport, remote, ticket);

    /// <summary>
    /// Opens a session, runs <paramref name="run"/> until it ends, maps a transport failure to its one
    /// reason, and records the end; returns it.
    /// </summary>
    public async Task<SessionEnd> RunAsync(string id, TransportKind transport, string remote, SessionAdmission.Ticket? ticket, ISessionRun run)
    {
        var session = Open(id, transport, remote, ticket);
        var end = new SessionEnd(CloseReason.Reset);
        try
        {
            end = new(await run.RunAsync(session));
        }
        catch (Exception e) when (SessionEnd.Ends(e))
        {
            end = new(Reason(e, run.State), e.Message);
            await run.FailedAsync(end.Reason);
        }
        finally
        {
            lifecycle.End(session, end);
        }

        return end;
    }

    /// <summary>
    /// A session's transport failed under it with <paramref name="e"/> (one of <see cref="SessionEnd.Ends"/>):
    /// records the failure now and returns the one reason the session closes with.
    /// </summary>
    public CloseReason Failed(Session session, Exception e, SessionState state)
    {
        lifecycle.Failed(session, e.Message);
        return Reason(e, state);
    }

    /// <summary>Records the end of <paramref name="session"/> with <paramref name="reason"/>; later calls do nothing.</summary>
    public void End(Session session, CloseReason reason) => lifecycle.End(session, new(reason));

    /// <summary>Records a session refused before it was served (denied, over a limit).</summary>
    public void Rejected(string id, TransportKind transport, string remote, CloseReason reason, string why) =>
        lifecycle.Rejected(id, transport, remote, reason, why);

    /// <summary>A stream peer half-closed (FIN); its replies are being finished.</summary>
    public void PeerHalfClosed(Session session) => lifecycle.PeerHalfClosed(session);

    /// <summary>
    /// The one mapping of a failure to a reason, on every transport: the protocol's own end (a kicked
    /// member) first; then a frame the runtime refused (a protocol error); then the timeout that
    /// aborted the transport; then the drain; then a peer that hung up (a reset); else what the
    /// transport says an unexplained abort is (a WebSocket's overdue pong: a keep-alive timeout).
    /// </summary>
    public static CloseReason Reason(Exception e, SessionState state) =>
        state.Abandoned
            ?? (SessionEnd.Refused(e) ? CloseReason.ProtocolError
                : state.Expired ?? (state.Draining ? CloseReason.ServerDrain
                    : SessionEnd.HungUp(e) ? CloseReason.Reset : state.Unexplained));
}

/// <summary>What a session's run knew when its transport failed under it, for <see cref="SessionRunner.Reason"/>.</summary>
/// <param name="Abandoned">Why the protocol ended the session itself (a kicked member), if it did.</param>
/// <param name="Expired">The timeout that fired, if one did (a write timeout aborts the transport).</param>
/// <param name="Draining">The server's drain had reached the session (its transport may be closed under it).</param>
/// <param name="Unexplained">The reason of a failure nothing else explains.</param>
internal readonly record struct SessionState(CloseReason? Abandoned, CloseReason? Expired, bool Draining, CloseReason Unexplained);

/// <summary>One session's run, as <see cref="SessionRunner.RunAsync"/> drives it (a WebSocket's receive loop and protocol).</summary>
internal interface ISessionRun
{
    /// <summary>Serves <paramref name="session"/> until it ends and returns why; throws what the transport throws when it fails under it.</summary>
    Task<CloseReason> RunAsync(Session session);

    /// <summary>What the run knows now, asked when it failed.</summary>
    SessionState State { get; }

    /// <summary>The run failed and ends with <paramref name="reason"/>: what the transport does before the end is recorded (a WebSocket lingers so a refused frame's close frame arrives).</summary>
    ValueTask FailedAsync(CloseReason reason);
}
