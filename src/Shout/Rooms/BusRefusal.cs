namespace Shout.Rooms;

/// <summary>Why a message from the bus was not delivered (the <c>reason</c> of <c>shout.rooms.bus.refused</c>).</summary>
internal enum BusRefusal
{
    /// <summary>Delivered.</summary>
    None,

    /// <summary>Not a message of this version (truncated, unknown kind or shape, a notice with text, numbers below 1).</summary>
    Shape,

    /// <summary>A room or nickname outside the rule (<see cref="RoomNames"/>), or a room other than its subject's.</summary>
    Name,

    /// <summary>A line without its sender's name in front, or with a control character or invalid UTF-8.</summary>
    Text,

    /// <summary>More lines, or a longer line, than any instance sends.</summary>
    Size,
}
