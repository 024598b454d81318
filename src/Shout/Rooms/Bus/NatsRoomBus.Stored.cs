using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Shout.Rooms.Bus;

/// <summary>
/// Exactly once across instances while the NATS server keeps the room stream (JetStream): a message
/// is published with a <c>Nats-Msg-Id</c> made of its sender's instance, member and line number, so
/// the stream stores it once however often it is sent. Through an outage the publisher keeps what
/// its members say (the bounded queue) and sends it when the bus is back, and sends again what it
/// sent in the last seconds before the outage (it may have died with the server); a receiver reads
/// the stream from shortly before the outage, so what its subscription missed is delivered then.
/// Each sender's line numbers (<see cref="SenderSequences"/>) drop what arrives twice.
/// </summary>
internal sealed partial class NatsRoomBus
{
    /// <summary>How far before an outage a publisher sends again, and a receiver reads the stream back from.</summary>
    private static readonly TimeSpan OutageMargin = TimeSpan.FromSeconds(5);

    /// <summary>Most messages kept to send again (those of the last <see cref="OutageMargin"/>).</summary>
    private const int ResendLimit = 64 * 1024;

    private readonly RoomStore _store;
    private readonly SemaphoreSlim _taking = new(1, 1);
    private readonly Queue<Sent> _recent = new();
    private readonly Lock _outage = new();
    private long _lostAt;

    // Completed except from an outage until the catch-up after it: live messages wait, so none overtakes a missed one.
    private volatile TaskCompletionSource _caughtUp = Completed();
    private int _generation;

    // The outage the publisher last sent again for: the publish loop's own, across messages.
    private int _resentFor;
    private bool _down;

    /// <summary>The connection dropped: remember when (once per outage).</summary>
    private void OnLost()
    {
        lock (_outage)
        {
            if (!_down)
            {
                _down = true;
                _lostAt = _clock.GetUtcNow().UtcTicks;
                if (_stored)
                {
                    _caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }
    }

    /// <summary>The connection is back: the publisher sends again, the receiver catches up from the stream.</summary>
    private void OnBack()
    {
        long lostAt;
        lock (_outage)
        {
            if (!_down)
            {
                return;
            }

            _down = false;
            lostAt = _lostAt;
            _generation++;
        }

        if (_stored)
        {
            _ = Task.Run(() => CatchUpAsync(new DateTimeOffset(lostAt, TimeSpan.Zero) - OutageMargin));
        }
    }

    private async Task CatchUpAsync(DateTimeOffset since)
    {
        try
        {
            // A round trip first: the subscriptions the client renewed are in place at the server.
            await _nats.PingAsync(_stopping.Token);
            await _taking.WaitAsync(_stopping.Token);
            try
            {
                var read = await _store.CatchUpAsync(since, (subject, data) => Take(subject, data, null, catchingUp: true), _stopping.Token);
                StoredLog.CaughtUp(_logger, read);
            }
            finally
            {
                _taking.Release();
            }
        }
        catch (Exception e) when (e is NatsException or OperationCanceledException or ObjectDisposedException or TimeoutException)
        {
            StoredLog.CatchUpFailed(_logger, BusAddress.Redact(e.Message));
        }
        finally
        {
            _caughtUp.TrySetResult();
        }
    }

    /// <summary>Completes when live messages may be taken (at once, except between an outage and its catch-up).</summary>
    private Task CaughtUp => _caughtUp.Task;

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }

    /// <summary>Sends one message, waiting out outages; after one, first what was sent just before it.</summary>
    private async Task PublishStoredAsync(BusMessage message)
    {
        var sent = new Sent(0, RoomSubjects + message.Room, message.Encode(),
            $"{message.Instance:N}-{message.Sender}-{message.Sequence}", Lines(message));
        while (!_stopping.IsCancellationRequested)
        {
            if (!Connected)
            {
                await WaitConnectedAsync();
                continue;
            }

            try
            {
                var generation = Volatile.Read(ref _generation);
                if (_resentFor != generation)
                {
                    await ResendAsync();
                    _resentFor = generation;
                }

                await SendAsync(sent);
                _metrics.BusPublished();
                Remember(sent with { Ticks = _clock.GetUtcNow().UtcTicks });
                return;
            }
            catch (Exception e) when (e is NatsException or ObjectDisposedException)
            {
                // Lost with the connection: sent again once it is back.
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        _metrics.BusLostPublishing(sent.Lines);
    }

    private ValueTask SendAsync(in Sent sent) =>
        _nats.PublishAsync(sent.Subject, sent.Bytes, new NatsHeaders { ["Nats-Msg-Id"] = sent.Id }, cancellationToken: _stopping.Token);

    /// <summary>What was sent in the margin before the outage began: the stream keeps each once, the receivers drop repeats.</summary>
    private async Task ResendAsync()
    {
        var from = Volatile.Read(ref _lostAt) - OutageMargin.Ticks;
        foreach (var sent in _recent.Where(s => s.Ticks >= from).ToList())
        {
            await SendAsync(sent);
        }
    }

    private void Remember(Sent sent)
    {
        _recent.Enqueue(sent);
        var old = sent.Ticks - OutageMargin.Ticks;
        while (_recent.Count > ResendLimit || _recent.Peek().Ticks < old)
        {
            _recent.Dequeue();
        }
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

    /// <param name="Ticks">When it was sent (UTC ticks).</param>
    /// <param name="Subject">The room's subject.</param>
    /// <param name="Bytes">The encoded message.</param>
    /// <param name="Id">Its <c>Nats-Msg-Id</c>.</param>
    /// <param name="Lines">Lines it carries (counted if it is lost).</param>
    private readonly record struct Sent(long Ticks, string Subject, byte[] Bytes, string Id, int Lines);

    private static partial class StoredLog
    {
        [LoggerMessage(30, LogLevel.Information, "Room bus back: {Messages} messages read from the room stream to catch up")]
        public static partial void CaughtUp(ILogger logger, int messages);

        [LoggerMessage(31, LogLevel.Warning, "Room bus back, but catching up from the room stream failed: {Reason}")]
        public static partial void CatchUpFailed(ILogger logger, string reason);
    }
}
