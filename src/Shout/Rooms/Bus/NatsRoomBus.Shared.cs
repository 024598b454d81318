using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Shout.Rooms.Bus;

/// <summary>
/// Shared offsets (<see cref="ShoutBusOptions.SharedOffsets"/>): the instance takes every room's
/// messages from the room stream in its order, through one ordered consumer, its own members'
/// lines too (they are answered and delivered here only when they come back), so every instance
/// delivers a room's lines in the same order and a position (a stream sequence and a count of lines
/// after it) means the same on all of them. After an outage the consumer goes on from the sequence
/// after the last one it delivered: nothing is read twice or skipped while the stream holds it.
/// </summary>
internal sealed partial class NatsRoomBus
{
    // Short pulls with a heartbeat every second: a consumer lost with a cluster node that died (the
    // connection itself staying up) is noticed in seconds, not at the 30 s default expiry.
    private static readonly NatsJSConsumeOpts ConsumeOptions = new()
    {
        MaxMsgs = 1000,
        Expires = TimeSpan.FromSeconds(5),
        IdleHeartbeat = TimeSpan.FromSeconds(1),
    };

    private volatile bool _shared;
    private string _streamId = "";
    private long _lastSeq;
    private volatile CancellationTokenSource? _sharedRound;

    public bool Shared => _shared;

    public string StreamId => _streamId;

    public long LastSeq => Volatile.Read(ref _lastSeq);

    /// <summary>
    /// At start, with shared offsets asked for: the stream made (or found) and, if it is there, every
    /// message it holds delivered in order before the instance says it is ready (for at most
    /// <see cref="RoomStore.ReadBackLimit"/>), then everything after it, for as long as the instance runs.
    /// False when the stream is not there: the instance goes on without shared offsets.
    /// </summary>
    private async Task<(bool Shared, Task Consuming)> StartSharedAsync()
    {
        var stream = await _store.OpenAsync(_stopping.Token);
        if (stream is null)
        {
            return (false, Task.CompletedTask);
        }

        var state = stream.Info.State;
        _streamId = SharedPositions.StreamId(stream.Info.Created);
        Volatile.Write(ref _lastSeq, Math.Max(0, (long)state.FirstSeq - 1));
        _stored = true;
        _shared = true;
        StartedCaughtUp();
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (state.Messages == 0)
        {
            caughtUp.TrySetResult();
        }

        var consuming = ConsumeSharedAsync((long)state.FirstSeq, (long)state.LastSeq, caughtUp);
        await Task.WhenAny(caughtUp.Task, Task.Delay(RoomStore.ReadBackLimit, _clock, _stopping.Token));
        SharedLog.Ready(_logger, RoomStore.Name, (long)state.Messages, _streamId);
        return (true, consuming);
    }

    /// <summary>
    /// Takes the stream's messages from <paramref name="first"/> on, in order, for as long as the
    /// instance runs; starts again from the next sequence after a failure (waiting 0.1 s, doubling
    /// to 2 s) or at once when the connection comes back.
    /// </summary>
    private async Task ConsumeSharedAsync(long first, long caughtUpAt, TaskCompletionSource caughtUp)
    {
        var next = first;
        var wait = TimeSpan.FromMilliseconds(100);
        while (!_stopping.IsCancellationRequested)
        {
            using var round = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            _sharedRound = round;
            try
            {
                var consumer = await _js.CreateOrderedConsumerAsync(RoomStore.Name, new NatsJSOrderedConsumerOpts
                {
                    FilterSubjects = [RoomSubjects + ">"],
                    DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                    OptStartSeq = (ulong)Math.Max(1, next),
                }, round.Token);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(opts: ConsumeOptions, cancellationToken: round.Token))
                {
                    if (message.Metadata is not { } metadata || (long)metadata.Sequence.Stream < next)
                    {
                        continue;
                    }

                    var seq = (long)metadata.Sequence.Stream;
                    TakeShared(message.Subject, message.Data, seq, metadata.Timestamp);
                    next = seq + 1;
                    Volatile.Write(ref _lastSeq, seq);
                    wait = TimeSpan.FromMilliseconds(100);
                    if (seq >= caughtUpAt)
                    {
                        caughtUp.TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
            {
                // The connection came back: on from the next sequence at once.
            }
            catch (Exception e) when ((e is NatsException or TimeoutException) && !_stopping.IsCancellationRequested)
            {
                SharedLog.ConsumeFailed(_logger, BusAddress.Redact(e.Message), wait.TotalMilliseconds);
                try
                {
                    await Task.Delay(wait, _clock, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            finally
            {
                _sharedRound = null;
            }
        }
    }

    /// <summary>The connection is back: the consumer starts again from the next sequence now, not at its next heartbeat.</summary>
    private void SharedBack()
    {
        try
        {
            _sharedRound?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// One message of the stream: checked as any message from the bus, once per sender's number;
    /// members' lines (this instance's own too) to <see cref="IRoomBusListener.OnShared"/>, the other
    /// instances' notices to their members here (this instance's own were delivered when made).
    /// </summary>
    private void TakeShared(string subject, byte[]? data, long seq, DateTimeOffset said)
    {
        if (!TryInspect(subject, data, out var line, out var payload, out var lines))
        {
            return;
        }

        var own = line.Instance == Instance;
        if (own && line.Shape != BusShape.Said)
        {
            // Delivered here when it was made; its number still moves its sender on, so no gap is counted at its next line.
            if (line.Kind == BusKind.Final)
            {
                _sequences.Forget(line.Instance, line.Sender);
            }
            else
            {
                _sequences.Accept(line.Instance, line.Sender, line.Sequence, out _, 1);
            }

            return;
        }

        if (!_sequences.Accept(line.Instance, line.Sender, line.Sequence, out var missed, lines))
        {
            _metrics.BusDuplicate();
            return;
        }

        _metrics.BusSenders(_sequences.Count, _sequences.Evicted);
        if (missed > 0)
        {
            _metrics.BusLostInTransit(missed);
        }

        if (!own)
        {
            _metrics.BusReceived();
        }

        if (line.Shape == BusShape.Said)
        {
            _listener?.OnShared(line.Room, payload, lines, seq, said, own ? line.Sender : null, line.Sequence);
        }
        else
        {
            _listener?.OnRemote(line.Room, payload, lines, said: false);
        }

        if (line.Kind == BusKind.Final)
        {
            _sequences.Forget(line.Instance, line.Sender);
        }
    }

    /// <summary>
    /// The lines of members <paramref name="room"/> has in the stream after sequence
    /// <paramref name="after"/> up to <paramref name="until"/>, each message checked and taken once per
    /// sender's number as delivery takes it; null when the stream no longer holds everything after
    /// <paramref name="after"/> or cannot answer within <see cref="RoomStore.ReadBackLimit"/>.
    /// </summary>
    public async Task<long?> CountLinesAsync(string room, long after, long until, CancellationToken cancellationToken)
    {
        if (until <= after)
        {
            return 0;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        limit.CancelAfter(RoomStore.ReadBackLimit);
        try
        {
            var stream = await _js.GetStreamAsync(RoomStore.Name, cancellationToken: limit.Token);
            if ((long)stream.Info.State.FirstSeq > after + 1)
            {
                return null;
            }

            var consumer = await _js.CreateOrderedConsumerAsync(RoomStore.Name, new NatsJSOrderedConsumerOpts
            {
                FilterSubjects = [RoomSubjects + room],
                DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                OptStartSeq = (ulong)after + 1,
            }, limit.Token);
            var sequences = new SenderSequences(int.MaxValue, TimeSpan.FromDays(365), _clock);
            long count = 0;
            while (true)
            {
                var got = 0;
                await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000 }, cancellationToken: limit.Token))
                {
                    got++;
                    var seq = (long)(message.Metadata?.Sequence.Stream ?? 0);
                    if (seq > until)
                    {
                        return count;
                    }

                    count += CountedLines(message.Subject, message.Data, sequences);
                    if (seq == until)
                    {
                        return count;
                    }
                }

                if (got == 0)
                {
                    return count;
                }
            }
        }
        catch (Exception e) when ((e is NatsException or TimeoutException or OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            SharedLog.CountFailed(_logger, room, BusAddress.Redact(e.Message));
            return null;
        }
    }

    /// <summary>The lines a message adds to its room, as <see cref="TakeShared"/> would take it.</summary>
    private int CountedLines(string subject, byte[]? data, SenderSequences sequences)
    {
        if (!TryInspect(subject, data, out var line, out _, out var lines, refusals: false))
        {
            return 0;
        }

        var accepted = sequences.Accept(line.Instance, line.Sender, line.Sequence, out _, lines);
        if (line.Kind == BusKind.Final)
        {
            sequences.Forget(line.Instance, line.Sender);
        }

        return accepted && line.Shape == BusShape.Said ? lines : 0;
    }

    private static partial class SharedLog
    {
        [LoggerMessage(50, LogLevel.Information, "Room offsets: shared through JetStream stream {Stream} ({Messages} messages there at start; its epochs begin with {StreamId}): a member can resume on any instance")]
        public static partial void Ready(ILogger logger, string stream, long messages, string streamId);

        [LoggerMessage(51, LogLevel.Information, "Room stream: reading it failed ({Reason}); again in {Milliseconds} ms from where it stopped")]
        public static partial void ConsumeFailed(ILogger logger, string reason, double milliseconds);

        [LoggerMessage(53, LogLevel.Warning, "Room bus {Server} lost: with shared offsets room lines wait until it is back (members here do not hear each other meanwhile); reconnecting")]
        public static partial void Disconnected(ILogger logger, string server);

        [LoggerMessage(52, LogLevel.Debug, "Room stream: counting the lines of {Room} for a resume failed: {Reason}")]
        public static partial void CountFailed(ILogger logger, string room, string reason);
    }
}
