using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace Shout.Rooms.Bus;

/// <summary>
/// The bus over a NATS server: lines and notices on <c>shout.room.ROOM</c>, <c>/who</c> as a
/// scatter-gather request on <c>shout.who.ROOM</c> answered by every other instance within
/// <see cref="ShoutRoomOptions.WhoTimeout"/> when the server has no JetStream (with it, from the presence bucket). The connection is opened with echo off, so an instance
/// never hears its own messages (and drops any that carry its id). Publishing never waits: messages
/// go through one bounded queue to one publisher task (which keeps each sender's order); while NATS
/// is unreachable, or the queue is full, a message is counted lost instead. The client reconnects by
/// itself with growing, jittered waits and subscribes again; members' local delivery never depends
/// on it. Anything received is checked (<see cref="BusInbound"/>) before it reaches a member or is
/// remembered, and what is remembered per sender is bounded (<see cref="SenderSequences"/>): the bus
/// may carry clients that are not instances when it is not protected by credentials.
/// </summary>
internal sealed partial class NatsRoomBus : IRoomBus, IHostedService, IAsyncDisposable
{
    private const string RoomSubjects = "shout.room.";
    private const string WhoSubjects = "shout.who.";

    // Most nicknames taken from the other instances' answers to one /who: a stranger answering cannot make it endless.
    private const int MaxWhoNicks = 10_000;

    // How long the bus may take to connect at start before the log says the instances are not linked:
    // 2 s gave false alarms on a loaded 2-core machine with NATS up (the client connected after 3 s).
    private static readonly TimeSpan StartCheck = TimeSpan.FromSeconds(5);

    private readonly ShoutRoomOptions _options;
    private readonly int _maxLineLength;
    private readonly RoomMetrics _metrics;
    private readonly ILogger<NatsRoomBus> _logger;
    private readonly NatsConnection _nats;
    private readonly Channel<BusMessage> _outgoing = Channel.CreateBounded<BusMessage>(
        new BoundedChannelOptions(64 * 1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly SenderSequences _sequences;
    private readonly TimeProvider _clock;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RoomBusStatus _status;
    private readonly BusAddress _address;
    private IRoomBusListener? _listener;
    private string _server = "";
    private int _disposed;
    private volatile bool _stored;

    /// <summary>Exactly once asked for (<see cref="ShoutBusOptions.ExactlyOnce"/>) and the stream there.</summary>
    private bool ExactlyOnce => _stored && _options.Bus.ExactlyOnce;

    public NatsRoomBus(ShoutRoomOptions options, int maxLineLength, RoomMetrics metrics, ILogger<NatsRoomBus> logger, TimeProvider clock,
        RoomBusStatus? status = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var bus = options.Bus;
        var address = bus.Address ?? throw new ArgumentException("the NATS bus needs an address", nameof(options));
        _options = options;
        _maxLineLength = maxLineLength;
        _metrics = metrics;
        _logger = logger;
        _clock = clock;
        _address = address;
        _status = status ?? new RoomBusStatus(clock);
        _status.Set(RoomBusState.Connecting, address.Redacted);
        _sequences = new SenderSequences(bus.SenderLimit, bus.SenderIdle, clock);
        _nats = new NatsConnection(NatsOpts.Default with
        {
            Url = address.NatsUrl,

            // Servers are tried in the order given: the first is the preferred one.
            NoRandomize = true,
            AuthOpts = bus.AuthOpts(),
            TlsOpts = bus.TlsOpts(),
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
        _store = new RoomStore(_nats, options, logger);
        _js = new NATS.Client.JetStream.NatsJSContext(_nats);
        _streamLater = new LookAgain(clock);
        _presenceLater = new LookAgain(clock);
        _nats.ConnectionDisconnected += (_, _) =>
        {
            var lost = _server.Length > 0 ? _server : address.Redacted;
            _status.Set(RoomBusState.Lost, lost);
            if (_shared)
            {
                SharedLog.Disconnected(_logger, lost);
            }
            else
            {
                BusLog.Disconnected(_logger, lost);
            }

            return ValueTask.CompletedTask;
        };
        _nats.ConnectionOpened += (_, args) =>
        {
            // The server actually reached (after a failover, not the first one configured), never with its credentials.
            _server = args.Message is { Length: > 0 } url ? BusAddress.Redact(url) : address.Redacted;
            var info = _nats.ServerInfo;
            _status.Set(RoomBusState.Connected, _server);
            BusLog.Connected(_logger, _server, info?.Name ?? "", info is null ? "" : $"{info.Host}:{info.Port}");
            OnBack();
            PresenceBack();
            return ValueTask.CompletedTask;
        };
        _nats.ReconnectFailed += (_, args) =>
        {
            BusLog.ConnectFailed(_logger, BusAddress.Redact(args.Message));
            return ValueTask.CompletedTask;
        };
    }

    public Guid Instance { get; } = Guid.NewGuid();

    /// <summary>True once the room stream is in use (at start, or found later by <see cref="FindStreamLaterAsync"/>).</summary>
    internal bool Stored => _stored;

    /// <summary>True while the NATS connection is open.</summary>
    public bool Connected => _nats.ConnectionState == NatsConnectionState.Open;

    /// <summary>The server connected now (or last), credentials redacted; empty before the first connection.</summary>
    public string Server => _server;

    /// <summary>Senders of other instances remembered now (bounded by <see cref="ShoutBusOptions.SenderLimit"/>).</summary>
    internal int Senders => _sequences.Count;

    public void Attach(IRoomBusListener listener) => _listener = listener;

    public bool Publish(in BusMessage message)
    {
        // Exactly once: a message waits out an outage in the queue (bounded) and is sent after it.
        if ((!Connected && !ExactlyOnce) || !_outgoing.Writer.TryWrite(message))
        {
            _metrics.BusLostPublishing(message.Lines);
            return false;
        }

        return true;
    }

    public async Task<IReadOnlyList<string>> RemoteNicksAsync(string room, CancellationToken cancellationToken)
    {
        // From the presence bucket when the server has JetStream: at once, no question asked (also
        // through an outage, where the other instances fade out with their heartbeats).
        if (PresenceNicks(room) is { } present)
        {
            return present;
        }

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
                if (reply.Data is not { Length: > 0 } data)
                {
                    continue;
                }

                // An answer is checked like any message from the bus: valid names only, and not without end.
                foreach (var nick in Encoding.UTF8.GetString(data).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!RoomNames.IsValid(nick) || nicks.Count >= MaxWhoNicks)
                    {
                        _metrics.BusRefused(BusRefusal.Name);
                        continue;
                    }

                    nicks.Add(nick);
                }
            }
        }
        catch (NatsException e)
        {
            // /who answers with what it has: the local members at least.
            BusLog.WhoFailed(_logger, BusAddress.Redact(e.Message));
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
        _loops.Add(Task.Run(ForgetIdleSendersAsync, CancellationToken.None));
        _loops.Add(Task.Run(CheckAtStartAsync, CancellationToken.None));
        _loops.Add(Task.Run(RunPresenceAsync, CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Says so when the bus is not there soon after start: the instance serves (its own members hear
    /// each other, and a bus started later links it: systemd may start NATS after Shout), but an
    /// operator must not think the instances are linked while they are not.
    /// </summary>
    private async Task CheckAtStartAsync()
    {
        try
        {
            await Task.WhenAny(_ready.Task, Task.Delay(StartCheck, _clock, _stopping.Token));
            if (!Connected && !_stopping.IsCancellationRequested)
            {
                BusLog.NotReachable(_logger, _address.Redacted, StartCheck.TotalSeconds);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _outgoing.Writer.TryComplete();
        await LeavePresenceAsync(cancellationToken);
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

            // What the other instances said before this one listened, from JetStream, before anything live;
            // with shared offsets everything from there on comes from the stream too.
            var consuming = Task.CompletedTask;
            if (_options.History > 0 && _options.Bus.SharedOffsets && _options.Bus.ExactlyOnce)
            {
                (_, consuming) = await StartSharedAsync();
            }
            else if (_options.History > 0)
            {
                _stored = await _store.ReadBackAsync(Replay, _stopping.Token);
                StartedCaughtUp();
            }

            _ready.TrySetResult();
            await Task.WhenAll(ReceiveLinesAsync(lines), AnswerWhoAsync(who), FindStreamLaterAsync(), consuming);
        }
        catch (NatsException e)
        {
            BusLog.ConnectFailed(_logger, BusAddress.Redact(e.Message));
            _ready.TrySetCanceled();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            _ready.TrySetCanceled();
        }
    }

    /// <summary>Now and then forgets senders gone quiet, so the memory a flood of invented senders took comes back.</summary>
    private async Task ForgetIdleSendersAsync()
    {
        var every = TimeSpan.FromTicks(Math.Clamp(_options.Bus.SenderIdle.Ticks / 2, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 30));
        using var timer = new PeriodicTimer(every, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                _sequences.ForgetIdle();
                _metrics.BusSenders(_sequences.Count, _sequences.Evicted);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PublishLoopAsync()
    {
        // Exactly once: one acknowledged message in flight per sender, senders side by side.
        using var stored = new StoredOutbox(PublishStoredAsync);
        await foreach (var message in _outgoing.Reader.ReadAllAsync())
        {
            if (ExactlyOnce)
            {
                await stored.AddAsync(message);
                continue;
            }

            try
            {
                await _nats.PublishAsync(RoomSubjects + message.Room, message.Encode(), cancellationToken: _stopping.Token);
                _metrics.BusPublished();
            }
            catch (Exception e) when (e is NatsException or OperationCanceledException or ObjectDisposedException)
            {
                _metrics.BusLostPublishing(message.Lines);
            }
        }

        await stored.CompletedAsync();
    }

    private async Task ReceiveLinesAsync(INatsSub<byte[]> subscription)
    {
        try
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync(_stopping.Token))
            {
                // With shared offsets every line comes from the stream, in its order, instead.
                if (!_shared)
                {
                    // On a new connection, what the stream kept from the outage comes first.
                    await TakeLiveAsync(message.Subject, message.Data);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A message from the stream, said before this instance listened: history only.</summary>
    private void Replay(string subject, byte[] data, DateTimeOffset said) => Take(subject, data, said);

    /// <summary>
    /// Checks, orders and hands on one message: live to the room's members (<paramref name="stored"/>
    /// null), or read back from the stream to the history only.
    /// </summary>
    /// <param name="subject">Where it came.</param>
    /// <param name="data">The encoded message.</param>
    /// <param name="stored">When it was said, for a message read back at start (history only).</param>
    /// <param name="catchingUp">Read from the stream after an outage: a repeat is expected, not counted.</param>
    private void Take(string subject, byte[]? data, DateTimeOffset? stored, bool catchingUp = false)
    {
        // Checked before its sender is remembered: a refused message costs no memory.
        if (!TryInspect(subject, data, out var line, out var payload, out var lines) || line.Instance == Instance)
        {
            return;
        }

        // Read back, a sender's messages are remembered too, so what comes live as well is delivered once.
        var accepted = _sequences.Accept(line.Instance, line.Sender, line.Sequence, out var missed, lines);
        _metrics.BusSenders(_sequences.Count, _sequences.Evicted);
        if (stored is { } said)
        {
            if (accepted && line.Shape == BusShape.Said)
            {
                _listener?.OnHistory(line.Room, payload, lines, said);
            }

            return;
        }

        if (!accepted)
        {
            if (!catchingUp)
            {
                _metrics.BusDuplicate();
            }

            return;
        }

        if (missed > 0)
        {
            _metrics.BusLostInTransit(missed);
        }

        _metrics.BusReceived();
        _listener?.OnRemote(line.Room, payload, lines, line.Shape == BusShape.Said);
        if (line.Kind == BusKind.Final)
        {
            _sequences.Forget(line.Instance, line.Sender);
        }
    }

    /// <summary>
    /// Decodes a message from a room subject and checks it (<see cref="BusInbound"/>): false for one
    /// not to take, counted as refused when it is malformed or breaks the rules, not when it came on
    /// another subject. Every way a message comes in (live, read back, counted for a resume) takes this one;
    /// a message only counted for a resume (<paramref name="refusals"/> false) was counted when it was delivered.
    /// </summary>
    private bool TryInspect(string subject, byte[]? data, out BusMessage line, out ReadOnlyMemory<byte> payload, out int lines, bool refusals = true)
    {
        payload = default;
        lines = 0;
        if (data is null || !BusMessage.TryDecode(data, out line))
        {
            line = default;
            if (refusals)
            {
                _metrics.BusRefused(BusRefusal.Shape);
            }

            return false;
        }

        if (!subject.StartsWith(RoomSubjects, StringComparison.Ordinal))
        {
            return false;
        }

        var refusal = BusInbound.Check(line, subject.AsSpan(RoomSubjects.Length), _maxLineLength, out payload, out lines);
        if (refusal != BusRefusal.None)
        {
            if (refusals)
            {
                _metrics.BusRefused(refusal);
            }

            return false;
        }

        return true;
    }

    private async Task AnswerWhoAsync(INatsSub<byte[]> subscription)
    {
        try
        {
            await foreach (var request in subscription.Msgs.ReadAllAsync(_stopping.Token))
            {
                var room = request.Subject[WhoSubjects.Length..];
                var nicks = RoomNames.IsValid(room) ? _listener?.LocalNicks(room) ?? [] : [];
                if (nicks.Count > 0)
                {
                    try
                    {
                        await request.ReplyAsync(Encoding.UTF8.GetBytes(string.Join('\n', nicks)), cancellationToken: _stopping.Token);
                    }
                    catch (NatsException e)
                    {
                        BusLog.WhoFailed(_logger, BusAddress.Redact(e.Message));
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
        [LoggerMessage(1, LogLevel.Warning, "Room bus {Server} lost: members here still hear each other; reconnecting")]
        public static partial void Disconnected(ILogger logger, string server);

        [LoggerMessage(2, LogLevel.Information, "Room bus connected to {Server} (server {ServerName} at {ServerAddress})")]
        public static partial void Connected(ILogger logger, string server, string serverName, string serverAddress);

        [LoggerMessage(3, LogLevel.Debug, "Room bus: /who could not ask the other instances: {Message}")]
        public static partial void WhoFailed(ILogger logger, string message);

        [LoggerMessage(5, LogLevel.Warning, "Room bus {Server} not reachable within {Seconds} s: instances are NOT linked until it is; retrying in the background")]
        public static partial void NotReachable(ILogger logger, string server, double seconds);

        [LoggerMessage(4, LogLevel.Debug, "Room bus: could not connect: {Reason}")]
        public static partial void ConnectFailed(ILogger logger, string reason);
    }
}
