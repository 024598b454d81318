using System.IO.Pipelines;
using Shout.Protocols;
using Shout.Protocols.Framing;
using Shout.Sessions;

namespace Shout.Transports.Streams;

/// <summary>
/// The stream seam's loop, as <see cref="SessionRunner"/> drives it: wait for a read, hand the
/// protocol what it brought and what interrupted it (a drain, an idle or line timeout), and say
/// whether the session ends and why. It knows no protocol: echo, line and room answer, flush and
/// say goodbye on their own.
/// </summary>
internal sealed partial class StreamPeer : ISessionLoop<ReadResult>
{
    private IProtocol? _protocol;
    private FairTurn _turn;

    public SessionState State => new(_protocol?.Abandoned, _timeouts!.Expired, Draining: false, Unexplained: CloseReason.Reset);

    public void Opened(Session session)
    {
        _session = session;

        // The server's drain reaches the session through its one list (it begins when Kestrel would ask
        // each connection, after the listeners were handed over), not a registration per connection.
        _handler.Drain.Join(this);
        _protocol = _handler.Protocols.Start(this, "", _settings);
    }

    public ValueTask<ReadResult> WaitAsync() => _input.ReadAsync();

    /// <summary>
    /// One turn: hands the protocol what one read brought and what interrupted it. Completes at once
    /// unless a reply waits for the client; pooled, so a wait costs no allocation.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SessionTurn> TurnAsync(ReadResult result)
    {
        var protocol = _protocol!;
        var timeouts = _timeouts!;
        if (protocol.Abandoned is { } abandoned)
        {
            _input.AdvanceTo(result.Buffer.End);
            return new(abandoned, false);
        }

        // A read is cancelled by the drain request or an expired idle/line timeout.
        var expired = result.IsCanceled ? timeouts.Expired : null;
        if (expired == CloseReason.LineTimeout)
        {
            // The unfinished line is not answered; the protocol says why it closes.
            _input.AdvanceTo(result.Buffer.End);
            await protocol.TimedOutAsync(CloseReason.LineTimeout);
            return new(CloseReason.LineTimeout, false);
        }

        if (expired is { } timedOut)
        {
            await protocol.TimedOutAsync(timedOut);
        }

        // Drain and idle timeout both answer everything buffered, then close.
        var draining = result.IsCanceled;
        if (!draining)
        {
            timeouts.Received();
        }

        var final = result.IsCompleted || draining;

        // At most one turn's input before flushing (backpressure; the protocol says how much).
        var buffer = final || result.Buffer.Length <= protocol.MaxTurnInput ? result.Buffer : result.Buffer.Slice(0, protocol.MaxTurnInput);
        var frame = await protocol.ReceiveAsync(buffer, final, draining && expired is null);
        timeouts.LineUnfinished(buffer.Length > frame.Consumed);
        _input.AdvanceTo(buffer.GetPosition(frame.Consumed), buffer.End);

        // After each turn's budget of input the session gives its thread back to the other sockets it serves (row 32).
        return new(Ending(frame.Action, draining, expired, result.IsCompleted), _turn.Spend(frame.Consumed));
    }

    public async ValueTask<CloseReason> EndAsync(CloseReason reason)
    {
        reason = await _protocol!.EndAsync(reason);
        if (GracefulClose.Applies(reason, _transport))
        {
            await GracefulClose.CloseAsync(_connection, _input, Session.BytesOut, _transport, _settings.WriteTimeout, _handler.Clock);
        }

        return reason;
    }

    public async ValueTask DisposeAsync()
    {
        if (_protocol is { } protocol)
        {
            await protocol.DisposeAsync();
        }

        _timeouts!.Dispose();
        _handler.Drain.Leave(this);
    }

    /// <summary>
    /// Why a session ends after a read was answered, or null to keep reading: the client gone, the
    /// protocol's quit or protocol error, then the drain (or the timeout that interrupted the read),
    /// then the peer's FIN.
    /// </summary>
    private CloseReason? Ending(FrameAction action, bool draining, CloseReason? expired, bool completed)
    {
        switch (action)
        {
            case FrameAction.Gone:
                return _timeouts!.Expired ?? CloseReason.Reset;
            case FrameAction.Quit:
                return CloseReason.Quit;
            case FrameAction.ProtocolError:
                return CloseReason.ProtocolError;
        }

        if (draining)
        {
            return expired ?? CloseReason.ServerDrain;
        }

        if (completed)
        {
            _handler.Runner.PeerHalfClosed(Session);
            return CloseReason.ClientClosed;
        }

        return null;
    }
}
