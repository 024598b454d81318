using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.Load.Room;

/// <summary>Settings of one room fan-out run (<c>shout bench room</c>). Immutable.</summary>
internal sealed record RoomBenchOptions
{
    /// <summary>The instances; members are spread over them in turn (TCP or Unix).</summary>
    public required IReadOnlyList<ShoutEndpoint> Endpoints { get; init; }

    /// <summary>Dial only addresses of this family (bench's <c>-4</c>/<c>-6</c>); null: any.</summary>
    public AddressFamily? Family { get; init; }

    /// <summary>Members connected. Default 100.</summary>
    public int Members { get; init; } = 100;

    /// <summary>Rooms the members are spread over (member i joins room i mod R). Default 1.</summary>
    public int Rooms { get; init; } = 1;

    /// <summary>How many members send (the first S). Default 10.</summary>
    public int Senders { get; init; } = 10;

    /// <summary>Lines per second per sender. Default 100.</summary>
    public int Rate { get; init; } = 100;

    /// <summary>How long the senders send. Default 10 s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// True for a Shout room server (own line back bare, others' with <c>NICK: </c> in front, rooms by
    /// <c>/join</c>); false for a plain broker such as <c>ncat --broker</c> (lines relayed as they are,
    /// not to the sender, one room).
    /// </summary>
    public bool ShoutRooms { get; init; } = true;

    /// <summary>The server's process id, for its memory (default: the local listener of the first endpoint).</summary>
    public int? ServerPid { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        if (Endpoints.Count == 0 || Endpoints.Any(e => e.Transport is not (ShoutTransport.Tcp or ShoutTransport.Unix)))
        {
            throw new ArgumentException("bench room: connect over tcp:// or unix://");
        }

        if (Members < 2 || Senders < 1 || Senders > Members || Rooms < 1 || Rooms > Members || Rate < 1)
        {
            throw new ArgumentException("bench room: need at least 2 members, 1 to members senders, 1 to members rooms, a rate of 1 or more");
        }

        if (!ShoutRooms && Rooms != 1)
        {
            throw new ArgumentException("bench room: a plain broker (--expect echo) has one room");
        }

        if (Duration <= TimeSpan.Zero)
        {
            throw new ArgumentException("bench room: the duration must be positive");
        }
    }
}

/// <summary>The outcome of a room fan-out run.</summary>
/// <param name="Members">Members connected.</param>
/// <param name="Rooms">Rooms.</param>
/// <param name="Senders">Members sending.</param>
/// <param name="Sent">Lines sent (not counting the readiness probes).</param>
/// <param name="Expected">Deliveries owed: each line to every other member of its room.</param>
/// <param name="Delivered">Deliveries received once and in order.</param>
/// <param name="Lost">Deliveries that never arrived.</param>
/// <param name="Duplicated">Deliveries received again.</param>
/// <param name="Reordered">Deliveries received after a later line of the same sender.</param>
/// <param name="Seconds">From the first line sent to the last delivery received.</param>
/// <param name="Latency">Fan-out latency, sender's write to each member's read, in microseconds.</param>
/// <param name="ServerMemory">The server's resident memory before the members connected and with all of them in.</param>
internal sealed record RoomBenchResult(int Members, int Rooms, int Senders, long Sent, long Expected, long Delivered, long Lost,
    long Duplicated, long Reordered, double Seconds, BenchLatency Latency, BenchServerMemory? ServerMemory)
{
    /// <summary>Deliveries per second.</summary>
    public double DeliveriesPerSecond => Seconds > 0 ? Delivered / Seconds : 0;

    /// <summary>Lines received that were not lines of the run (a broker that interleaves senders' bytes mid-line).</summary>
    public long Malformed { get; init; }

    /// <summary>CPU time this client (the bench) used while sending and draining.</summary>
    public double ClientCpuSeconds { get; init; }

    /// <summary>CPU time the server process used meanwhile, when it is local and readable.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary>The client's CPU time over the run's time: near the cores it may use, the client is the limit.</summary>
    public double ClientCores => Seconds > 0 ? ClientCpuSeconds / Seconds : 0;

    /// <summary>True when the run was stopped early (Ctrl+C); what was sent until then is still checked.</summary>
    public bool Interrupted { get; init; }

    /// <summary>The server's CPU time per delivery, in microseconds: what a delivery costs it, whatever the load.</summary>
    public double? ServerMicrosecondsPerDelivery => ServerCpuSeconds is { } s && Delivered > 0 ? s * 1e6 / Delivered : null;
}

/// <summary>Totals of a room run so far, from the first line sent.</summary>
/// <param name="Seconds">Since the first line was sent.</param>
/// <param name="Sent">Lines sent so far.</param>
/// <param name="Delivered">Deliveries received so far (once, in order).</param>
internal sealed record RoomBenchProgress(double Seconds, long Sent, long Delivered);
