using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Shout.Sessions;

namespace Shout.Transports.Streams;

/// <summary>
/// What a timeout does to a stream session (every stream handler): idle and line timeouts stop the
/// pending read; the write timeout aborts the connection. The drain stops the pending read too: the
/// same object is the session's place in the server's drain list.
/// </summary>
internal sealed class StreamTimeoutTarget(ConnectionContext connection, PipeReader input) : DrainMember, ISessionTimeoutTarget
{
    public void Interrupt() => input.CancelPendingRead();

    public override void Drain() => input.CancelPendingRead();

    public void Abort() => connection.Abort(new ConnectionAbortedException("The client did not read its replies within the write timeout."));
}
