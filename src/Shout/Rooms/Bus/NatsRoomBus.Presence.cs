using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Shout.Rooms.Bus;

/// <summary>
/// Presence across instances in a JetStream key-value bucket (<see cref="PresenceBucket"/>): each
/// instance puts its heartbeat every <see cref="ShoutRoomOptions.PresenceHeartbeat"/> and, for each
/// room where it has members, one key with their names, written when they change (a join, leave or
/// rename) and removed when the last one leaves or the instance stops cleanly. Every instance
/// watches the bucket into memory (<see cref="PresenceView"/>), so <c>/who</c> answers at once; an
/// instance silent for three heartbeats is dropped, and its keys removed by whoever sees it so.
/// Without JetStream on the server, <c>/who</c> asks the instances as before (scatter-gather).
/// One heartbeat key per instance rather than rewriting every room each heartbeat: the cost of
/// staying alive does not grow with the rooms.
/// </summary>
internal sealed partial class NatsRoomBus
{
    /// <summary>The bucket's name: one per deployment.</summary>
    public const string PresenceBucket = "SHOUT_PRESENCE";

    // Every room key is written again this often, and the bucket forgets what is older than twice it:
    // keys of instances that all died with nobody left to remove them, and delete markers, do not pile up.
    private static readonly TimeSpan PresenceRefresh = TimeSpan.FromMinutes(4);

    // How long a clean stop may spend removing this instance's keys.
    private static readonly TimeSpan PresenceGoodbye = TimeSpan.FromSeconds(2);

    private readonly Lock _presenceGate = new();
    private readonly ConcurrentDictionary<string, byte> _presenceDirty = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _presenceWritten = new(StringComparer.Ordinal);
    private readonly Channel<bool> _presenceSignal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private PresenceView? _view;
    private readonly LookAgain _presenceLater;
    private volatile INatsKVStore? _presence;
    private volatile CancellationTokenSource? _watching;
    private volatile bool _leaving;

    /// <summary>True once the presence bucket is in use (<c>/who</c> answers from it).</summary>
    internal bool PresenceReady => _presence is not null;

    public void MembersChanged(string room)
    {
        _presenceDirty[room] = 0;
        _presenceSignal.Writer.TryWrite(true);
    }

    /// <summary>The other instances' names in <paramref name="room"/> from the bucket; null when the bucket is not in use.</summary>
    private List<string>? PresenceNicks(string room)
    {
        if (_presence is null)
        {
            return null;
        }

        lock (_presenceGate)
        {
            return _view?.Nicks(room, _clock.GetUtcNow()) ?? [];
        }
    }

    private async Task RunPresenceAsync()
    {
        try
        {
            await _ready.Task;
            var kv = new NatsKVContext(new NatsJSContext(_nats));
            var heartbeat = _options.PresenceHeartbeat;
            // Asked again while running when refused: a cluster still forming, or a server restarted with JetStream, may give it later.
            var store = await TryMakeBucketAsync(kv, PresenceLog.Unavailable)
                ?? await _presenceLater.UntilAsync(async _ => Connected ? await TryMakeBucketAsync(kv, PresenceLog.StillUnavailable) : null, _stopping.Token);
            _presence = store;
            PresenceLog.Ready(_logger, PresenceBucket, heartbeat.TotalMilliseconds);
            await Task.WhenAll(WatchPresenceAsync(kv, store, heartbeat), BeatAsync(store, heartbeat), WritePresenceAsync(store));
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The bucket, or null (and <paramref name="refused"/> logged) when the server has no JetStream or refused.</summary>
    private async Task<INatsKVStore?> TryMakeBucketAsync(NatsKVContext kv, Action<ILogger, string> refused)
    {
        try
        {
            return await MakeBucketAsync(kv);
        }
        catch (Exception e) when (e is NatsJSException or NatsNoRespondersException or NatsException or TimeoutException)
        {
            refused(_logger, BusAddress.Redact(e.Message));
            return null;
        }
    }

    /// <summary>The bucket, made (or its settings brought back) if needed: the server keeps it in memory, so a restart loses it.</summary>
    private Task<INatsKVStore> MakeBucketAsync(NatsKVContext kv) =>
        kv.CreateOrUpdateStoreAsync(new NatsKVConfig(PresenceBucket)
        {
            Storage = NatsKVStorageType.Memory,
            NumberOfReplicas = _options.Bus.Replicas,
            History = 1,
            MaxAge = PresenceRefresh * 2,
            MaxBytes = 64L * 1024 * 1024,
            MaxValueSize = PresenceKeys.MaxValue,
        }, _stopping.Token).AsTask();

    /// <summary>Keeps the view: the bucket's keys, then every change. Started afresh on each new connection.</summary>
    private async Task WatchPresenceAsync(NatsKVContext kv, INatsKVStore store, TimeSpan heartbeat)
    {
        var first = true;
        while (!_stopping.IsCancellationRequested)
        {
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            _watching = watching;
            lock (_presenceGate)
            {
                // Afresh: what was missed while the connection was away comes with the bucket's keys.
                _view = new PresenceView(Instance, heartbeat);
            }

            try
            {
                if (!first)
                {
                    // After a NATS restart the bucket may be gone: made again, and this instance's rooms written into it.
                    await MakeBucketAsync(kv);
                    WriteAllRoomsAgain();
                }

                first = false;
                await foreach (var entry in store.WatchAsync<byte[]>(">", cancellationToken: watching.Token))
                {
                    TakePresence(entry);
                }
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is NatsException or NatsJSException or InvalidOperationException or TimeoutException)
            {
                PresenceLog.WatchFailed(_logger, BusAddress.Redact(e.Message));
                await Task.Delay(heartbeat, _clock, _stopping.Token);
            }
        }
    }

    private void TakePresence(NatsKVEntry<byte[]> entry)
    {
        var deleted = entry.Operation != NatsKVOperation.Put;
        BusRefusal refusal;
        lock (_presenceGate)
        {
            refusal = _view?.Take(entry.Key, entry.Value ?? [], deleted, _clock.GetUtcNow()) ?? BusRefusal.None;
        }

        if (refusal != BusRefusal.None)
        {
            _metrics.BusRefused(refusal);
            return;
        }

        // Someone took this instance for dead (it was cut off for a while): its rooms are written again.
        if (deleted && PresenceKeys.TryParse(entry.Key, out var instance, out var room) && instance == Instance && room is not null
            && _listener?.LocalNicks(room).Count > 0)
        {
            MembersChanged(room);
        }
    }

    /// <summary>Puts the heartbeat; drops instances gone silent and removes their keys; now and then writes every room again.</summary>
    private async Task BeatAsync(INatsKVStore store, TimeSpan heartbeat)
    {
        var beat = PresenceKeys.HeartbeatValue(heartbeat);
        var key = PresenceKeys.Heartbeat(Instance);
        var refreshEvery = Math.Max(1, (int)(PresenceRefresh / heartbeat));
        var beats = 0;
        using var timer = new PeriodicTimer(heartbeat, _clock);
        do
        {
            if (!Connected || _leaving)
            {
                continue;
            }

            try
            {
                await store.PutAsync(key, beat, cancellationToken: _stopping.Token);
            }
            catch (Exception e) when (e is NatsException or NatsJSException or TimeoutException)
            {
                PresenceLog.WriteFailed(_logger, BusAddress.Redact(e.Message));
                continue;
            }

            List<(Guid Instance, string[] Rooms)> dead;
            lock (_presenceGate)
            {
                dead = _view?.ForgetDead(_clock.GetUtcNow()) ?? [];
            }

            foreach (var (instance, rooms) in dead)
            {
                PresenceLog.InstanceGone(_logger, instance.ToString("N")[..8], rooms.Length);
                foreach (var gone in rooms.Select(r => PresenceKeys.Room(instance, r)).Append(PresenceKeys.Heartbeat(instance)))
                {
                    await DeleteQuietlyAsync(store, gone, _stopping.Token);
                }
            }

            if (++beats % refreshEvery == 0)
            {
                WriteAllRoomsAgain();
            }
        }
        while (await timer.WaitForNextTickAsync(_stopping.Token));
    }

    /// <summary>Writes each room marked changed: its names here, or removes its key when none is left.</summary>
    private async Task WritePresenceAsync(INatsKVStore store)
    {
        // What changed before the bucket was ready is written now.
        WriteAllRoomsAgain();
        await foreach (var _ in _presenceSignal.Reader.ReadAllAsync(_stopping.Token))
        {
            foreach (var room in _presenceDirty.Keys)
            {
                if (_leaving || !_presenceDirty.TryRemove(room, out var _))
                {
                    continue;
                }

                var nicks = _listener?.LocalNicks(room) ?? [];
                try
                {
                    if (nicks.Count > 0)
                    {
                        _presenceWritten[room] = 0;
                        await store.PutAsync(PresenceKeys.Room(Instance, room), PresenceKeys.NamesValue(nicks), cancellationToken: _stopping.Token);
                    }
                    else if (_presenceWritten.TryRemove(room, out var _))
                    {
                        await store.DeleteAsync(PresenceKeys.Room(Instance, room), cancellationToken: _stopping.Token);
                    }
                }
                catch (Exception e) when (e is NatsException or NatsJSException or TimeoutException)
                {
                    // Written with the next change, on the next connection or bucket, or at the next refresh; not retried in a loop meanwhile.
                    _presenceWritten[room] = 0;
                    _presenceDirty[room] = 0;
                    PresenceLog.WriteFailed(_logger, BusAddress.Redact(e.Message));
                }
            }
        }
    }

    /// <summary>Every room this instance has members in, or wrote before, is written again (a new connection, the refresh).</summary>
    private void WriteAllRoomsAgain()
    {
        foreach (var room in _presenceWritten.Keys.Concat(_listener?.Rooms() ?? []))
        {
            _presenceDirty[room] = 0;
        }

        _presenceSignal.Writer.TryWrite(true);
    }

    /// <summary>The connection is back: read the bucket afresh and write this instance's rooms again.</summary>
    private void PresenceBack()
    {
        if (_presence is null)
        {
            _presenceLater.Poke();
            return;
        }

        try
        {
            _watching?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        WriteAllRoomsAgain();
    }

    /// <summary>A clean stop: this instance's keys removed, so the others drop its members at once.</summary>
    private async Task LeavePresenceAsync(CancellationToken cancellationToken)
    {
        _leaving = true;
        if (_presence is not { } store || !Connected)
        {
            return;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(PresenceGoodbye);
        foreach (var key in _presenceWritten.Keys.Select(r => PresenceKeys.Room(Instance, r)).Append(PresenceKeys.Heartbeat(Instance)))
        {
            await DeleteQuietlyAsync(store, key, limit.Token);
        }
    }

    /// <summary>
    /// For tests: what a crash looks like to the other instances. The NATS connection goes without a
    /// word (no key removed, no heartbeat after); the instance itself keeps serving its members.
    /// </summary>
    internal ValueTask AbandonForTestAsync() => _nats.DisposeAsync();

    private async Task DeleteQuietlyAsync(INatsKVStore store, string key, CancellationToken cancellationToken)
    {
        try
        {
            await store.DeleteAsync(key, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is NatsException or NatsJSException or OperationCanceledException or ObjectDisposedException)
        {
            PresenceLog.WriteFailed(_logger, BusAddress.Redact(e.Message));
        }
    }

    private static partial class PresenceLog
    {
        [LoggerMessage(40, LogLevel.Information, "Room presence: JetStream bucket {Bucket} ready, heartbeat {Milliseconds} ms; /who answers from it")]
        public static partial void Ready(ILogger logger, string bucket, double milliseconds);

        [LoggerMessage(41, LogLevel.Warning, "Room presence: no JetStream bucket on the bus ({Reason}): /who asks the other instances each time; start nats-server with -js; asking again while running")]
        public static partial void Unavailable(ILogger logger, string reason);

        [LoggerMessage(45, LogLevel.Debug, "Room presence: still no JetStream bucket on the bus ({Reason}); asking again later")]
        public static partial void StillUnavailable(ILogger logger, string reason);

        [LoggerMessage(42, LogLevel.Debug, "Room presence: could not write the bucket: {Reason}")]
        public static partial void WriteFailed(ILogger logger, string reason);

        [LoggerMessage(43, LogLevel.Debug, "Room presence: watching the bucket failed, starting again: {Reason}")]
        public static partial void WatchFailed(ILogger logger, string reason);

        [LoggerMessage(44, LogLevel.Information, "Room presence: instance {Instance} silent for 3 heartbeats; its members in {Rooms} rooms dropped from /who")]
        public static partial void InstanceGone(ILogger logger, string instance, int rooms);
    }
}
