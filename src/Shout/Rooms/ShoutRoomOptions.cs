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

    /// <summary>
    /// The bus joining instances: null for the in-process bus (one instance), or
    /// <c>nats://HOST:PORT</c> for a NATS server shared by every instance.
    /// </summary>
    public Uri? Bus { get; set; }

    /// <summary>How long <c>/who</c> waits for the other instances' answers over the bus. Default 300 ms.</summary>
    public TimeSpan WhoTimeout { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Parses a bus address: <c>nats://HOST:PORT</c> (or <c>none</c>/empty for the in-process bus).</summary>
    /// <exception cref="FormatException">Anything else, with a one-line reason.</exception>
    public static Uri? ParseBus(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0 || text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != "nats" || uri.Port <= 0 || uri.AbsolutePath is not ("/" or ""))
        {
            throw new FormatException($"'{text}' is not a bus address: use nats://HOST:PORT (or none)");
        }

        return uri;
    }
}
