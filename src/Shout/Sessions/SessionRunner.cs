namespace Shout.Sessions;

/// <summary>
/// The one owner of a session's life on every transport, as Kestrel's <c>KestrelConnection&lt;T&gt;</c>
/// wraps a connection's handler: it opens the session (<see cref="SessionLifecycle.Open"/>), runs
/// it, maps how it ended to exactly one <see cref="CloseReason"/> (<see cref="Reason"/>) and records
/// the end once. A stream session is a loop of waits and turns that the runner drives itself
/// (<see cref="RunAsync{TInput}"/>: its frame is the only one an idle connection holds); a session
/// whose run is an object of its own (a WebSocket's receive loop) is run whole
/// (<see cref="RunAsync(string, TransportKind, string, SessionAdmission.Ticket?, ISessionRun)"/>); a UDP
/// source, which is no task but a datagram at a time, is opened, and its protocol ended and the end
/// recorded, by <see cref="Open"/> and <see cref="EndAsync"/>. No transport records a session otherwise.
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
    /// Opens a session and runs its loop until it ends (the stream seam's): waits for input, hands
    /// each to the loop's turn, gives the thread up when the turn asks (row 32), then the loop's
    /// end; maps a transport failure to its one reason and records the end. The loop's state is its
    /// own object and this method's frame the only one an idle session holds.
    /// </summary>
    public Task RunAsync<TInput>(string id, TransportKind transport, string remote, SessionAdmission.Ticket? ticket, ISessionLoop<TInput> loop)
    {
        // Opened before the first await, so whoever accepted the connection sees it open when this returns.
        var session = Open(id, transport, remote, ticket);
        return RunOpenAsync(session, loop);
    }

    private async Task RunOpenAsync<TInput>(Session session, ISessionLoop<TInput> loop)
    {
        var reason = CloseReason.Reset;
        try
        {
            loop.Opened(session);
            while (true)
            {
                // The wait first, then the call: an argument evaluated before an await is kept in the state machine.
                var input = await loop.WaitAsync();
                var turned = loop.TurnAsync(input);
                var turn = turned.IsCompletedSuccessfully ? turned.Result : await turned;
                if (turn.Ending is { } ending)
                {
                    reason = ending;
                    break;
                }

                if (turn.Yield)
                {
                    await Task.Yield();
                }
            }

            reason = await loop.EndAsync(reason);
        }
        catch (Exception e) when (SessionEnd.Ends(e))
        {
            // A write timeout aborts the connection, which surfaces here as an abort. The failure is
            // recorded now, not carried to the end: a field more in this frame is 8 bytes more per idle session.
            reason = Failed(session, e, loop.State);
        }
        finally
        {
            await loop.DisposeAsync();
            End(session, reason);
        }
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

    /// <summary>
    /// Ends a session that has no loop of its own (a UDP source, a datagram at a time): its
    /// protocol, if it has one, says what it owes and the reason it closes with, and the end is recorded once.
    /// </summary>
    public async Task EndAsync(Session session, ISessionEnding? protocol, CloseReason reason)
    {
        try
        {
            if (protocol is not null)
            {
                reason = await protocol.EndAsync(reason);
                await protocol.DisposeAsync();
            }
        }
        finally
        {
            End(session, reason);
        }
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

/// <summary>What the runner ends on every seam: a session's protocol, which says what it still owes and the reason it closes with.</summary>
internal interface ISessionEnding : IAsyncDisposable
{
    /// <summary>The session ends with <paramref name="reason"/>: sends what it still owes (a room's goodbye) and returns the reason it closes with.</summary>
    ValueTask<CloseReason> EndAsync(CloseReason reason);
}

/// <summary>
/// A session the runner drives as a loop (<see cref="SessionRunner.RunAsync{TInput}"/>, the stream
/// seam's): it waits for <typeparamref name="TInput"/> (a read), takes a turn on each, and ends.
/// Not thread-safe: one per session.
/// </summary>
internal interface ISessionLoop<TInput> : IAsyncDisposable
{
    /// <summary>The session is open: the loop starts its protocol.</summary>
    void Opened(Session session);

    /// <summary>Waits for the next input; completes at once when some is buffered.</summary>
    ValueTask<TInput> WaitAsync();

    /// <summary>Hands <paramref name="input"/> to the protocol; says whether the session ends (and why) and whether to give the thread up first.</summary>
    ValueTask<SessionTurn> TurnAsync(TInput input);

    /// <summary>The loop ended with <paramref name="reason"/>: the protocol's end and the transport's close; returns the reason the session closes with.</summary>
    ValueTask<CloseReason> EndAsync(CloseReason reason);

    /// <summary>What the loop knows now, asked when its transport failed.</summary>
    SessionState State { get; }
}

/// <summary>The outcome of one turn of a <see cref="ISessionLoop{TInput}"/>.</summary>
/// <param name="Ending">Why the session ends, or null to wait for more.</param>
/// <param name="Yield">The session used up its turn of the thread (<see cref="FairTurn"/>): give it up before waiting again.</param>
internal readonly record struct SessionTurn(CloseReason? Ending, bool Yield);
