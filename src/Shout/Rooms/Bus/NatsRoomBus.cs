using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Shout.Rooms.Bus;

/// <summary>
/// The bus over a NATS server: lines and notices on <c>shout.room.ROOM</c>, <c>/who</c> as a
/// scatter-gather request on <c>shout.who.ROOM</c> answered by every other instance within
/// <see cref="ShoutRoomOptions.WhoTimeout"/>. The connection is opened with echo off, so an instance
/// never hears its own messages (and drops any that carry its id). Publishing never waits: messages
/// go through one bounded queue to one publisher task (which keeps each sender's order); while NATS
/// is unreachable, or the queue is full, a message is counted lost instead. The client reconnects by
/// itself with growing, jittered waits and subscribes again; members' local delivery never depends
/// on it.
/// </summary>
internal sealed partial class NatsRoomBus : IRoomBus, IHostedService, IAsyncDisposable
{
    private const string RoomSubjects = "shout.room.";
    private const string WhoSubjects = "shout.who.";

    private readonly ShoutRoomOptions _options;
    private readonly RoomMetrics _metrics;
    private readonly ILogger<NatsRoomBus> _logger;
    private readonly NatsConnection _nats;
    private readonly Channel<BusMessage> _outgoing = Channel.CreateBounded<BusMessage>(
        new BoundedChannelOptions(64 * 1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly SenderSequences _sequences = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IRoomBusListener? _listener;
    private int _disposed;

    public NatsRoomBus(ShoutRoomOptions options, RoomMetrics metrics, ILogger<NatsRoomBus> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _nats = new NatsConnection(NatsOpts.Default with
        {
            Url = options.Bus!.ToString(),
            Name = "shout-" + Instance.ToString("N")[..8],
            Echo = false,
            RetryOnInitialConnect = true,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            ReconnectJitter = TimeSpan.FromMilliseconds(100),

            // Room traffic comes in bursts (one line, many rooms' worth of members): room for them, then at most once.
            SubPendingChannelCapacity = 64 * 1024,
            LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
        });
        _nats.ConnectionDisconnected += (_, _) =>
        {
            BusLog.Disconnected(_logger, _options.Bus);
            return ValueTask.CompletedTask;
        };
        _nats.ConnectionOpened += (_, _) =>
        {
            BusLog.Connected(_logger, _options.Bus);
            return ValueTask.CompletedTask;
        };
    }

    public Guid Instance { get; } = Guid.NewGuid();

    /// <summary>True while the NATS connection is open.</summary>
    public bool Connected => _nats.ConnectionState == NatsConnectionState.Open;

    public void Attach(IRoomBusListener listener) => _listener = listener;

    public void Publish(in BusMessage message)
    {
        if (!Connected || !_outgoing.Writer.TryWrite(message))
        {
            _metrics.BusLostPublishing(Lines(message));
        }
    }

    public async Task<IReadOnlyList<string>> RemoteNicksAsync(string room, CancellationToken cancellationToken)
    {
        if (!Connected)
        {
            return [];
        }

        var nicks = new List<string>();
        try
        {
            var replies = _nats.RequestManyAsync<byte[], byte[]>(WhoSubjects + room, [],
                replyOpts: new NatsSubOpts { Timeout = _options.WhoTimeout }, cancellationToken: cancellationToken);
            await foreach (var reply in replies)
            {
                if (reply.Data is { Length: > 0 } data)
                {
                    nicks.AddRange(Encoding.UTF8.GetString(data).Split('\n', StringSplitOptions.RemoveEmptyEntries));
                }
            }
        }
        catch (NatsException e)
        {
            // /who answers with what it has: the local members at least.
            BusLog.WhoFailed(_logger, e.Message);
        }

        return nicks;
    }

    /// <summary>Completes once the first connection is open and both subscriptions are in place at the server.</summary>
    public Task Ready => _ready.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // In the background: while NATS is down the client keeps trying (RetryOnInitialConnect), and
        // the instance serves its own members meanwhile.
        _loops.Add(Task.Run(RunAsync, CancellationToken.None));
        _loops.Add(Task.Run(PublishLoopAsync, CancellationToken.None));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _outgoing.Writer.TryComplete();
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync()
    {
        try
        {
            await _nats.ConnectAsync().AsTask().WaitAsync(_stopping.Token);
            await using var lines = await _nats.SubscribeCoreAsync<byte[]>(RoomSubjects + ">", cancellationToken: _stopping.Token);
            await using var who = await _nats.SubscribeCoreAsync<byte[]>(WhoSubjects + "*", cancellationToken: _stopping.Token);

            // A round trip after the SUBs: the server has them, so what is published from now on reaches us.
            await _nats.PingAsync(_stopping.Token);
            _ready.TrySetResult();
            await Task.WhenAll(ReceiveLinesAsync(lines), AnswerWhoAsync(who));
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or NatsException)
        {
            _ready.TrySetCanceled();
        }
    }

    /// <summary>A message carries the lines of one read of its sender: the loss is counted in lines.</summary>
    private static int Lines(in BusMessage message) => Math.Max(1, message.Payload.Span.Count((byte)'\n'));

    private async Task PublishLoopAsync()
    {
        await foreach (var message in _outgoing.Reader.ReadAllAsync())
        {
            try
            {
                await _nats.PublishAsync(RoomSubjects + message.Room, message.Encode(), cancellationToken: _stopping.Token);
                _metrics.BusPublished();
            }
            catch (Exception e) when (e is NatsException or OperationCanceledException or ObjectDisposedException)
            {
                _metrics.BusLostPublishing(Lines(message));
            }
        }
    }

    private async Task ReceiveLinesAsync(INatsSub<byte[]> subscription)
    {
        try
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync(_stopping.Token))
            {
                if (message.Data is not { } data || !BusMessage.TryDecode(data, out var line) || line.Instance == Instance)
                {
                    continue;
                }

                if (!_sequences.Accept(line.Instance, line.Sender, line.Sequence, out var missed, Lines(line)))
                {
                    _metrics.BusDuplicate();
                    continue;
                }

                if (missed > 0)
                {
                    _metrics.BusLostInTransit(missed);
                }

                _metrics.BusReceived();
                _listener?.OnRemote(line.Room, line.Payload);
                if (line.Kind == BusKind.Final)
                {
                    _sequences.Forget(line.Instance, line.Sender);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AnswerWhoAsync(INatsSub<byte[]> subscription)
    {
        try
        {
            await foreach (var request in subscription.Msgs.ReadAllAsync(_stopping.Token))
            {
                var room = request.Subject[WhoSubjects.Length..];
                var nicks = _listener?.LocalNicks(room) ?? [];
                if (nicks.Count > 0)
                {
                    try
                    {
                        await request.ReplyAsync(Encoding.UTF8.GetBytes(string.Join('\n', nicks)), cancellationToken: _stopping.Token);
                    }
                    catch (NatsException e)
                    {
                        BusLog.WhoFailed(_logger, e.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The container may dispose it twice: it is registered as itself and as IRoomBus.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _nats.DisposeAsync();
        _stopping.Dispose();
    }

    private static partial class BusLog
    {
        [LoggerMessage(1, LogLevel.Warning, "Room bus {Bus} lost: members here still hear each other; reconnecting")]
        public static partial void Disconnected(ILogger logger, Uri? bus);

        [LoggerMessage(2, LogLevel.Information, "Room bus {Bus} connected")]
        public static partial void Connected(ILogger logger, Uri? bus);

        [LoggerMessage(3, LogLevel.Debug, "Room bus: /who could not ask the other instances: {Message}")]
        public static partial void WhoFailed(ILogger logger, string message);
    }
}
