using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Shout.Rooms.Bus;

/// <summary>
/// The deployment's room lines kept by NATS JetStream: one stream (<see cref="Name"/>) over every
/// room's subject (<c>shout.room.ROOM</c>), holding what was said in the last
/// <see cref="ShoutRoomOptions.HistoryAge"/>, at most <see cref="ShoutRoomOptions.HistoryBytes"/> ×
/// <see cref="ShoutRoomOptions.HistoryRooms"/> bytes (64 MiB by default), the oldest dropped first. Instances publish as before
/// (the server stores what is published on the stream's subjects); an instance that starts reads the
/// stream back once, so a member joining it gets the lines said on the others before it was there.
/// Without JetStream on the server, history stays each instance's own (logged once, as a warning).
/// </summary>
internal sealed partial class RoomStore(NatsConnection nats, ShoutRoomOptions options, ILogger logger)
{
    /// <summary>The stream's name: one per deployment (the instances sharing the bus).</summary>
    public const string Name = "SHOUT_ROOMS";

    /// <summary>How long reading the stream back at start may take before the instance goes on without the rest.</summary>
    internal static readonly TimeSpan ReadBackLimit = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Makes (or updates) the stream and gives every message it holds to <paramref name="replay"/>,
    /// oldest first; false when the server has no JetStream or refused, and history stays per instance.
    /// </summary>
    public async Task<bool> ReadBackAsync(Action<string, byte[], DateTimeOffset> replay, CancellationToken cancellationToken)
    {
        var js = new NatsJSContext(nats);
        var read = 0;
        try
        {
            var stream = await js.CreateOrUpdateStreamAsync(Config(), cancellationToken);
            var last = stream.Info.State.LastSeq;
            if (stream.Info.State.Messages > 0)
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                limit.CancelAfter(ReadBackLimit);
                var consumer = await js.CreateOrderedConsumerAsync(Name, new NatsJSOrderedConsumerOpts(), limit.Token);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: limit.Token))
                {
                    if (message.Data is { } data && message.Metadata is { } metadata)
                    {
                        replay(message.Subject, data, metadata.Timestamp);
                        read++;
                        if (metadata.Sequence.Stream >= last || metadata.NumPending == 0)
                        {
                            break;
                        }
                    }
                }
            }

            StoreLog.Ready(logger, Name, read);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            StoreLog.Slow(logger, Name, ReadBackLimit.TotalSeconds, read);
            return true;
        }
        catch (Exception e) when (e is NatsJSException or NatsNoRespondersException or NatsException or TimeoutException)
        {
            StoreLog.Unavailable(logger, BusAddress.Redact(e.Message));
            return false;
        }
    }

    /// <summary>Makes (or updates) the stream; null when the server has no JetStream or refused (logged, as at a read-back).</summary>
    public Task<INatsJSStream?> OpenAsync(CancellationToken cancellationToken) => OpenAsync(StoreLog.Unavailable, cancellationToken);

    /// <summary>
    /// Makes (or updates) the stream once it was refused at start (<see cref="LookAgain"/>): true
    /// when the server now has it. Nothing is read back: the instance was live meanwhile, and its
    /// history holds what the bus brought since it started.
    /// </summary>
    public async Task<bool> FindAsync(CancellationToken cancellationToken)
    {
        if (await OpenAsync(StoreLog.StillUnavailable, cancellationToken) is null)
        {
            return false;
        }

        StoreLog.Found(logger, Name);
        return true;
    }

    private async Task<INatsJSStream?> OpenAsync(Action<ILogger, string> refused, CancellationToken cancellationToken)
    {
        try
        {
            return await new NatsJSContext(nats).CreateOrUpdateStreamAsync(Config(), cancellationToken);
        }
        catch (Exception e) when (e is NatsJSException or NatsNoRespondersException or NatsException or TimeoutException)
        {
            refused(logger, BusAddress.Redact(e.Message));
            return null;
        }
    }

    /// <summary>
    /// After an outage: gives <paramref name="take"/> every message the stream holds from
    /// <paramref name="since"/> (server time) up to its end when asked, oldest first, so what the
    /// live subscription missed is delivered now (the receiver drops what it already had). Returns
    /// how many it read.
    /// </summary>
    public async Task<int> CatchUpAsync(DateTimeOffset since, Action<string, byte[]> take, CancellationToken cancellationToken)
    {
        var js = new NatsJSContext(nats);
        var read = 0;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(ReadBackLimit);
        // Made again if the server came back without its store.
        var stream = await js.CreateOrUpdateStreamAsync(Config(), limit.Token);
        var last = stream.Info.State.LastSeq;
        var consumer = await js.CreateOrderedConsumerAsync(Name, new NatsJSOrderedConsumerOpts
        {
            DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartTime,
            OptStartTime = since,
        }, limit.Token);
        while (true)
        {
            var got = 0;
            ulong seen = 0;
            await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000 }, cancellationToken: limit.Token))
            {
                got++;
                seen = message.Metadata?.Sequence.Stream ?? seen;
                if (message.Data is { } data)
                {
                    take(message.Subject, data);
                    read++;
                }
            }

            if (got == 0 || seen >= last)
            {
                return read;
            }
        }
    }

    private StreamConfig Config() => new(Name, ["shout.room.>"])
    {
        Storage = StreamConfigStorage.File,
        NumReplicas = options.Bus.Replicas,

        // No count per room: the stream also carries what an outage kept from the live subscriptions.
        MaxAge = options.HistoryAge,
        MaxBytes = options.HistoryBytes * options.HistoryRooms,
        Discard = StreamConfigDiscard.Old,
        // JetStream refuses a duplicate window longer than the age it keeps messages for.
        DuplicateWindow = options.HistoryAge < TimeSpan.FromMinutes(2) ? options.HistoryAge : TimeSpan.FromMinutes(2),
    };

    private static partial class StoreLog
    {
        [LoggerMessage(20, LogLevel.Information, "Room history: JetStream stream {Stream} ready, {Messages} messages read back")]
        public static partial void Ready(ILogger logger, string stream, int messages);

        [LoggerMessage(21, LogLevel.Warning, "Room history: no JetStream stream on the bus ({Reason}): each instance keeps its own history; start nats-server with -js to share it; asking again while running")]
        public static partial void Unavailable(ILogger logger, string reason);

        [LoggerMessage(23, LogLevel.Information, "Room history: JetStream stream {Stream} ready now; history is shared (and, with --bus-exactly-once, delivery exactly once) from here on")]
        public static partial void Found(ILogger logger, string stream);

        [LoggerMessage(24, LogLevel.Debug, "Room history: still no JetStream stream on the bus ({Reason}); asking again later")]
        public static partial void StillUnavailable(ILogger logger, string reason);

        [LoggerMessage(22, LogLevel.Warning, "Room history: reading {Stream} back took over {Seconds} s; going on with {Messages} messages")]
        public static partial void Slow(ILogger logger, string stream, double seconds, int messages);
    }
}
