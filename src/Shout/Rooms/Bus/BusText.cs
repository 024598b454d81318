using Shout.Text;

namespace Shout.Rooms.Bus;

/// <summary>
/// Which text from the bus may reach a member's terminal: exactly what a local member's line
/// becomes once escaped (<see cref="VisibleText"/>: no C0 control but tab, no DEL, no C1 control,
/// no bidi override, valid UTF-8). An instance publishes lines already escaped, so anything else
/// was not sent by an instance and is refused. Pure, thread-safe.
/// </summary>
internal static class BusText
{
    /// <summary>True when <paramref name="text"/> (one line, terminator removed) is safe to show.</summary>
    public static bool IsSafe(ReadOnlySpan<byte> text) => VisibleText.IsVisible(text, keepLineBreaks: false);
}
