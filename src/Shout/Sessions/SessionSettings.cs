namespace Shout.Sessions;

/// <summary>
/// The rules every session is held to, on every transport: who may connect, how many at once, and
/// the three timeouts. Immutable, so a reload swaps the whole set at once (<see cref="SessionRules"/>)
/// and a session sees one consistent set. A timeout of <see cref="TimeSpan.Zero"/> is off; a limit
/// of 0 is off.
/// </summary>
internal sealed record SessionSettings
{
    /// <summary>Which client addresses may connect (Unix peers have none and are governed by file permissions).</summary>
    public AccessList Access { get; init; } = AccessList.Everyone;

    /// <summary>Most sessions open at once over every transport (a WebSocket and a UDP source count as one).</summary>
    public int MaxConnections { get; init; }

    /// <summary>Most sessions open at once from one client IP address.</summary>
    public int MaxConnectionsPerAddress { get; init; }

    /// <summary>Nothing received for this long closes the session.</summary>
    public TimeSpan IdleTimeout { get; init; }

    /// <summary>A reply the client does not take for this long aborts the session.</summary>
    public TimeSpan WriteTimeout { get; init; }

    /// <summary>Line framing: a line begun and not finished for this long closes the session; zero when lines are not framed.</summary>
    public TimeSpan LineTimeout { get; init; }

    /// <summary>UDP: datagrams per second one source may send; more are dropped unanswered and counted. 0 is off.</summary>
    public int UdpRatePerSource { get; init; }

    /// <summary>UDP room mode: a source from which nothing arrives for this long leaves its room and is forgotten. Zero is off.</summary>
    public TimeSpan UdpLease { get; init; }

    /// <summary>True when <paramref name="timeout"/> is a real timeout rather than "off".</summary>
    public static bool IsOn(TimeSpan timeout) => timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan;
}

/// <summary>
/// The settings in force. Read once per session (admission, timeouts), so a swap applies to new
/// sessions and leaves open ones as they were. The connection limit is fitted to the descriptor
/// budget here, at start and at every reload, so no setting lets connections take the descriptors
/// the process itself needs. Thread-safe.
/// </summary>
internal sealed class SessionRules(SessionSettings initial, DescriptorBudget? budget = null)
{
    private readonly DescriptorBudget _budget = budget ?? DescriptorBudget.Process;
    private SessionSettings _current = Fit(initial, budget ?? DescriptorBudget.Process);

    /// <summary>The descriptor budget the connection limit is fitted to.</summary>
    public DescriptorBudget Budget => _budget;

    /// <summary>The settings new sessions get.</summary>
    public SessionSettings Current => Volatile.Read(ref _current);

    /// <summary>Replaces the settings for every session that starts from now on.</summary>
    public void Replace(SessionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Volatile.Write(ref _current, Fit(settings, _budget));
    }

    private static SessionSettings Fit(SessionSettings settings, DescriptorBudget budget) =>
        budget.Lowers(settings.MaxConnections) ? settings with { MaxConnections = budget.Clamp(settings.MaxConnections) } : settings;
}
