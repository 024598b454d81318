namespace Shout.Rooms;

/// <summary>What the bus is doing now, as the page and the log say it.</summary>
internal enum RoomBusState
{
    /// <summary>No <c>--bus</c>: one instance, nothing to link.</summary>
    None,

    /// <summary>Configured but not connected yet since start: instances are not linked.</summary>
    Connecting,

    /// <summary>Connected: instances are linked.</summary>
    Connected,

    /// <summary>Was connected and lost: instances are not linked until it comes back.</summary>
    Lost,
}

/// <summary>
/// The room bus's state for the live view: set by the bus, read once per second by the page's feed.
/// Kept apart from the bus so the page needs nothing of NATS, and so an instance without a bus says
/// so (<see cref="RoomBusState.None"/>) instead of saying nothing.
/// </summary>
internal sealed class RoomBusStatus(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private RoomBusState _state = RoomBusState.None;
    private string _server = "";
    private DateTimeOffset _since = clock.GetUtcNow();

    /// <summary>The state, the server (redacted; empty without a bus) and when the state began.</summary>
    public (RoomBusState State, string Server, DateTimeOffset Since) Current
    {
        get
        {
            lock (_gate)
            {
                return (_state, _server, _since);
            }
        }
    }

    public void Set(RoomBusState state, string server)
    {
        lock (_gate)
        {
            if (_state != state)
            {
                _since = clock.GetUtcNow();
            }

            _state = state;
            _server = server;
        }
    }
}
