namespace Shout.Rooms;

/// <summary>What a bus needs from the instance it serves: delivery to local members, and their names.</summary>
internal interface IRoomBusListener
{
    /// <summary>
    /// <paramref name="lines"/> lines or a notice from a member of another instance (already
    /// de-duplicated and in order); <paramref name="said"/> for members' lines (kept as history), false for notices.
    /// </summary>
    void OnRemote(string room, ReadOnlyMemory<byte> payload, int lines, bool said);

    /// <summary>Members' lines said before this instance was listening, read back from the bus's store: kept as history only.</summary>
    void OnHistory(string room, ReadOnlyMemory<byte> payload, int lines, DateTimeOffset said);

    /// <summary>
    /// With shared offsets: members' lines in the room stream's order, this instance's own members'
    /// too (<paramref name="localSender"/> their member id, <paramref name="senderSequence"/> the
    /// number of the message's last line in that member's lines), at stream sequence <paramref name="seq"/>.
    /// </summary>
    void OnShared(string room, ReadOnlyMemory<byte> payload, int lines, long seq, DateTimeOffset said, long? localSender, long senderSequence);

    /// <summary>The nicknames of this instance's members of <paramref name="room"/>.</summary>
    IReadOnlyList<string> LocalNicks(string room);

    /// <summary>The rooms with members on this instance now.</summary>
    IReadOnlyCollection<string> Rooms();
}

/// <summary>
/// Carries lines between instances. The local instance always delivers its own members' lines
/// itself; a bus only reaches the others. At most once: <see cref="Publish"/> never waits, and a
/// message it cannot send is counted as lost, never retried.
/// </summary>
internal interface IRoomBus
{
    /// <summary>This instance's id on the bus.</summary>
    Guid Instance { get; }

    /// <summary>Called once by the hub before any message flows.</summary>
    void Attach(IRoomBusListener listener);

    /// <summary>Sends to every other instance; never waits. False when the message was dropped (counted as lost).</summary>
    bool Publish(in BusMessage message);

    /// <summary>The nicknames in <paramref name="room"/> on every other instance that answers in time.</summary>
    Task<IReadOnlyList<string>> RemoteNicksAsync(string room, CancellationToken cancellationToken);

    /// <summary>This instance's members of <paramref name="room"/> changed (a join, leave or rename); never waits.</summary>
    void MembersChanged(string room);

    /// <summary>
    /// True when members' lines reach every instance, this one's own members' included, in the room
    /// stream's order (<see cref="ShoutBusOptions.SharedOffsets"/>, the stream there at start): the
    /// hub then delivers its members' lines when the bus brings them back, not before.
    /// </summary>
    bool Shared => false;

    /// <summary>With <see cref="Shared"/>: the room stream's id in positions (<see cref="SharedPositions.StreamId"/>).</summary>
    string StreamId => "";

    /// <summary>With <see cref="Shared"/>: the stream sequence of the last message delivered.</summary>
    long LastSeq => 0;

    /// <summary>
    /// With <see cref="Shared"/>: how many lines of members <paramref name="room"/> has in the stream
    /// after sequence <paramref name="after"/> up to <paramref name="until"/>, counted as delivery
    /// counts them; null when the stream no longer holds them all (or cannot answer).
    /// </summary>
    Task<long?> CountLinesAsync(string room, long after, long until, CancellationToken cancellationToken) => Task.FromResult<long?>(null);
}

/// <summary>One instance alone: nothing to send, no one else to ask.</summary>
internal sealed class InProcessRoomBus : IRoomBus
{
    public Guid Instance { get; } = Guid.NewGuid();

    public void Attach(IRoomBusListener listener)
    {
    }

    public bool Publish(in BusMessage message) => true;

    public Task<IReadOnlyList<string>> RemoteNicksAsync(string room, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    public void MembersChanged(string room)
    {
    }
}
