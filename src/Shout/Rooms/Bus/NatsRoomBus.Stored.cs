using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Shout.Rooms.Bus;

/// <summary>
/// Exactly once across instances (<see cref="ShoutBusOptions.ExactlyOnce"/>) while the NATS server
/// keeps the room stream (JetStream): a message is published with a <c>Nats-Msg-Id</c> made of its
/// sender's instance, member and line number, so the stream stores it once however often it is
/// sent; a sender's next message is sent only once the stream acknowledged its last (other senders'
/// go meanwhile, and what a sender said while it waited goes as one message). Through an outage the
/// publisher keeps what its members say (the bounded queue) and sends it on the next connection. A
/// receiver, on the first message of a new connection (or as soon as it is back), reads the stream
/// from shortly before the last message it took, so nothing its subscription missed is overtaken.
/// Each sender's line numbers (<see cref="SenderSequences"/>) drop what arrives twice. A new
/// connection is told by the id the server gives each client connection, not by the client's
/// events, which may come after the first messages of the new connection.
/// </summary>
internal sealed partial class NatsRoomBus
{
    /// <summary>How long before the last message it took a receiver reads the stream back from, after an outage.</summary>
    private static readonly TimeSpan OutageMargin = TimeSpan.FromSeconds(5);

    /// <summary>How long a receiver keeps trying to read the stream back after an outage before it gives up (a cluster's election takes seconds).</summary>
    private static readonly TimeSpan CatchUpPatience = TimeSpan.FromSeconds(30);

    /// <summary>How long a publisher waits for the stream's acknowledgement before it sends the message again.</summary>
    private static readonly TimeSpan AckWait = TimeSpan.FromSeconds(2);

    private readonly RoomStore _store;
    private readonly NATS.Client.JetStream.NatsJSContext _js;
    private readonly SemaphoreSlim _taking = new(1, 1);
    private readonly LookAgain _streamLater;

    // The connection the receiver caught up for (the server's name and client id).
    private volatile string? _caughtUpFor;
    private long _lastTaken;

    /// <summary>
    /// The connection messages come on now, as the server named it (the last INFO the client read);
    /// null before the first. Not tied to the client's Open state: on a reconnect the client renews
    /// its subscriptions before it says Open, so the first messages of the new connection can come
    /// while it still says Reconnecting, and they must wait for the catch-up like any other.
    /// </summary>
    private string? ConnectionId => _nats.ServerInfo is { } info ? $"{info.Name}/{info.ClientId}" : null;

    /// <summary>After the stream was read back at start: this connection is caught up.</summary>
    private void StartedCaughtUp()
    {
        Volatile.Write(ref _lastTaken, _clock.GetUtcNow().UtcTicks);
        _caughtUpFor = ConnectionId;
    }

    /// <summary>
    /// With history on and the stream refused at start (a cluster still forming, a server without
    /// JetStream restarted with it): asks again (<see cref="LookAgain"/>) until the server has it,
    /// and from then on uses it as if found at start, from this connection on.
    /// </summary>
    private async Task FindStreamLaterAsync()
    {
        if (_stored || _options.History <= 0)
        {
            return;
        }

        try
        {
            await _streamLater.UntilAsync(async token => Connected && await _store.FindAsync(token) ? _store : null, _stopping.Token);
            await _taking.WaitAsync(_stopping.Token);
            try
            {
                // Caught up for this connection: what comes next is live, and only a later outage reads the stream back.
                StartedCaughtUp();
                _stored = true;
            }
            finally
            {
                _taking.Release();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The connection is back: catch up at once, not only when the next message comes.</summary>
    private void OnBack()
    {
        _streamLater.Poke();
        if (_shared)
        {
            SharedBack();
            return;
        }

        if (ExactlyOnce)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await CatchUpAsync();
                }
                catch (OperationCanceledException)
                {
                }
            });
        }
    }

    /// <summary>
    /// Before taking a live message: if the connection is not the one last caught up for, reads the
    /// stream from <see cref="OutageMargin"/> before the last message taken. Once per connection.
    /// </summary>
    private async Task CatchUpAsync()
    {
        var id = ConnectionId;
        if (!ExactlyOnce || id is null || id == _caughtUpFor)
        {
            return;
        }

        await _taking.WaitAsync(_stopping.Token);
        try
        {
            id = ConnectionId;
            if (id is null || id == _caughtUpFor)
            {
                return;
            }

            if (_caughtUpFor is not null)
            {
                var since = new DateTimeOffset(Volatile.Read(ref _lastTaken), TimeSpan.Zero) - OutageMargin;
                var read = await CatchUpWithRetriesAsync(since);
                StoredLog.CaughtUp(_logger, read);
            }

            _caughtUpFor = id;
        }
        catch (Exception e) when (e is NatsException or ObjectDisposedException or TimeoutException)
        {
            // Given up after CatchUpPatience (not tried again on this connection: every message would):
            // what it missed stays missed, counted as lost in transit.
            StoredLog.CatchUpFailed(_logger, BusAddress.Redact(e.Message));
            _caughtUpFor = id;
        }
        finally
        {
            _taking.Release();
        }
    }

    /// <summary>
    /// Reads the stream back from <paramref name="since"/>, trying again while the stream cannot
    /// answer yet (a cluster electing a new leader for it after its leader died answers "no API
    /// response" for a few seconds), for up to <see cref="CatchUpPatience"/>. Live messages wait
    /// meanwhile, so none overtakes what the stream gives back; a read given twice is dropped by
    /// each sender's line numbers.
    /// </summary>
    private async Task<int> CatchUpWithRetriesAsync(DateTimeOffset since)
    {
        var started = _clock.GetTimestamp();
        var wait = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                // A round trip first: the subscriptions the client renewed are in place at the server.
                await _nats.PingAsync(_stopping.Token);
                return await _store.CatchUpAsync(since, (subject, data) => Take(subject, data, null, catchingUp: true), _stopping.Token);
            }
            catch (Exception e) when ((e is NatsException or TimeoutException) && !_stopping.IsCancellationRequested
                && _clock.GetElapsedTime(started) + wait < CatchUpPatience)
            {
                StoredLog.CatchUpRetry(_logger, BusAddress.Redact(e.Message), wait.TotalMilliseconds);
                await Task.Delay(wait, _clock, _stopping.Token);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>A live message, in turn with any catch-up.</summary>
    private async Task TakeLiveAsync(string subject, byte[]? data)
    {
        await CatchUpAsync();
        await _taking.WaitAsync(_stopping.Token);
        try
        {
            Take(subject, data, null);
            if (ExactlyOnce)
            {
                Volatile.Write(ref _lastTaken, _clock.GetUtcNow().UtcTicks);
            }
        }
        finally
        {
            _taking.Release();
        }
    }

    /// <summary>
    /// Sends one message and waits for the stream's acknowledgement, trying again (same
    /// <c>Nats-Msg-Id</c>) until it has one. Its sender's next message waits for it
    /// (<see cref="StoredOutbox"/>), so no later message of the sender overtakes it, not even a copy
    /// the client still had buffered from a connection that died; other senders' messages go meanwhile.
    /// </summary>
    private async Task PublishStoredAsync(BusMessage message)
    {
        var subject = RoomSubjects + message.Room;
        var bytes = message.Encode();
        var options = new NATS.Client.JetStream.NatsJSPubOpts { MsgId = $"{message.Instance:N}-{message.Sender}-{message.Sequence}" };
        while (!_stopping.IsCancellationRequested)
        {
            if (!Connected)
            {
                await WaitConnectedAsync();
                continue;
            }

            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                attempt.CancelAfter(AckWait);
                await _js.PublishAsync(subject, bytes, opts: options, cancellationToken: attempt.Token);
                _metrics.BusPublished();
                return;
            }
            catch (Exception e) when (e is NatsException or ObjectDisposedException or OperationCanceledException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    break;
                }

                // Not acknowledged (the connection went, or the ack did): the same message again, the stream keeps it once.
                await WaitConnectedAsync();
            }
        }

        _metrics.BusLostPublishing(message.Lines);
    }

    private async Task WaitConnectedAsync()
    {
        try
        {
            // Polled: the publisher is idle meanwhile, and the client reconnects by itself.
            await Task.Delay(TimeSpan.FromMilliseconds(20), _clock, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static partial class StoredLog
    {
        [LoggerMessage(30, LogLevel.Information, "Room bus back: {Messages} messages read from the room stream to catch up")]
        public static partial void CaughtUp(ILogger logger, int messages);

        [LoggerMessage(31, LogLevel.Warning, "Room bus back, but catching up from the room stream failed: {Reason}")]
        public static partial void CatchUpFailed(ILogger logger, string reason);

        [LoggerMessage(32, LogLevel.Information, "Room bus back, the room stream cannot answer yet ({Reason}); trying again in {Milliseconds} ms")]
        public static partial void CatchUpRetry(ILogger logger, string reason, double milliseconds);
    }
}
