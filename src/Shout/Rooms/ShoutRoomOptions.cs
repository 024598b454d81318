
namespace Shout.Rooms;

/// <summary>What happens to a room member whose outgoing queue is full (it does not read).</summary>
public enum SlowMemberPolicy
{
    /// <summary>Closed with reason <c>slow_member</c> once its queue has stayed full for the write timeout. The default.</summary>
    Kick,

    /// <summary>Its oldest queued lines are dropped to make room, and counted; it is never closed for it.</summary>
    Drop,
}

/// <summary>Settings of room mode (<c>--mode room</c>). Not thread-safe; set before starting.</summary>
public sealed class ShoutRoomOptions
{
    /// <summary>Default <see cref="QueueLength"/>.</summary>
    public const int DefaultQueueLength = 16384;

    /// <summary>The room every member starts in.</summary>
    public const string DefaultRoom = "lobby";

    /// <summary>What to do with a member that does not read. Default <see cref="SlowMemberPolicy.Kick"/>.</summary>
    public SlowMemberPolicy SlowMember { get; set; } = SlowMemberPolicy.Kick;

    /// <summary>Most lines waiting for one member. Default 16384.</summary>
    public int QueueLength { get; set; } = DefaultQueueLength;

    /// <summary>Default <see cref="History"/>.</summary>
    public const int DefaultHistory = 50;

    /// <summary>
    /// How many of a room's last lines a member gets when it joins, and how far back <c>/resume</c>
    /// reaches; 0 turns history and resume off. Default 50.
    /// </summary>
    public int History { get; set; } = DefaultHistory;

    /// <summary>Lines older than this are not given as history. Default 1 hour.</summary>
    public TimeSpan HistoryAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most bytes of lines held per room (the oldest go first). Default 64 KiB.</summary>
    public long HistoryBytes { get; set; } = 64 * 1024;

    /// <summary>Most rooms whose history is held; the least recently active are forgotten first. Default 1,024.</summary>
    public int HistoryRooms { get; set; } = 1024;

    /// <summary>
    /// The bus joining instances: <see cref="ShoutBusOptions.Address"/> null for the in-process bus
    /// (one instance), or NATS servers shared by every instance, with their credentials and TLS.
    /// </summary>
    public ShoutBusOptions Bus { get; } = new();

    /// <summary>How long <c>/who</c> waits for the other instances' answers over the bus. Default 300 ms.</summary>
    public TimeSpan WhoTimeout { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// How often an instance on a NATS bus with JetStream says it is alive in the presence bucket;
    /// one missing three of them has its members dropped from <c>/who</c>. 50 ms to 1 minute. Default 1 s.
    /// </summary>
    public TimeSpan PresenceHeartbeat { get; set; } = TimeSpan.FromSeconds(1);
}
