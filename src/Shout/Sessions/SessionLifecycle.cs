using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Shout.Sessions;

/// <summary>
/// The one lifecycle of every session on every transport: opened (metric, event, log line), then
/// closed with one reason (event, metric, log line with peer, transport, bytes and duration), or
/// refused before it was served. Transports call it; none records a session any other way.
/// Thread-safe.
/// </summary>
internal sealed class SessionLifecycle(ShoutMetrics metrics, IConnectionEvents events, ILogger<SessionLifecycle> logger)
{
    /// <summary>Records an admitted session, holding <paramref name="ticket"/>'s slot, and returns it.</summary>
    public Session Open(string id, TransportKind transport, string remote, SessionAdmission.Ticket? ticket)
    {
        var session = new Session(metrics, id, transport, remote, Stopwatch.GetTimestamp(), ticket);
        metrics.ConnectionOpened(transport);
        events.Opened(id, transport.Name(), remote);
        SessionLog.Accepted(logger, id, transport.Name(), remote);
        return session;
    }

    /// <summary>Records the end of <paramref name="session"/>; later calls for the same session do nothing.</summary>
    public void Close(Session session, CloseReason reason)
    {
        if (!session.TryMarkClosed())
        {
            return;
        }

        // The slot first: whoever sees the close recorded may connect again at once and be admitted.
        session.Ticket?.Dispose();
        var elapsed = Stopwatch.GetElapsedTime(session.Started);
        // The event before the count: whoever sees the count drop finds the event already there.
        events.Closed(session.Id, session.Transport.Name(), session.Remote, reason, session.BytesIn, session.BytesOut, elapsed);
        metrics.ConnectionClosed(session.Transport, reason, elapsed);
        SessionLog.Closed(logger, session.Id, IConnectionEvents.ClosedByFor(reason), ShoutMetrics.ReasonName(reason),
            session.BytesIn, session.BytesOut, Text.DurationText.Format(elapsed), session.Transport.Name(), session.Remote);
    }

    /// <summary>Records how <paramref name="session"/> ended: the failure, if one ended it, then the close with its one reason.</summary>
    public void End(Session session, SessionEnd end)
    {
        if (end.Failure is { } failure)
        {
            Failed(session, failure);
        }

        Close(session, end.Reason);
    }

    /// <summary>Records a session refused before it was served (denied, over a limit).</summary>
    public void Rejected(string id, TransportKind transport, string remote, CloseReason reason, string why)
    {
        metrics.ConnectionRejected(transport, reason);
        events.Rejected(id, transport.Name(), remote, reason);
        SessionLog.Refused(logger, id, transport.Name(), remote, why, ShoutMetrics.ReasonName(reason));
    }

    /// <summary>A session's transport failed (reset, abort); the close that follows records the reason.</summary>
    public void Failed(Session session, string message) => SessionLog.Error(logger, session.Id, message);

    /// <summary>A stream peer half-closed (FIN); its replies are being finished.</summary>
    public void PeerHalfClosed(Session session) => SessionLog.PeerHalfClosed(logger, session.Id);
}
