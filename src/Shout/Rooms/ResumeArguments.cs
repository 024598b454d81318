using System.Globalization;

namespace Shout.Rooms;

/// <summary>
/// The arguments of <c>/resume ROOM OFFSET EPOCH</c>, as a <c>* [at ROOM OFFSET EPOCH]</c> line gives
/// them: a room name, a line number of at most 18 digits, an epoch of 8 letters and digits. Anything
/// else is a usage error, so nothing a client invents reaches the history or an error line unchecked. Pure.
/// </summary>
internal static class ResumeArguments
{
    public const string Rule = "as the last * [at ROOM OFFSET EPOCH] line said, plus one per room line since";

    public static bool TryParse(string argument, out string room, out long offset, out string epoch)
    {
        room = "";
        epoch = "";
        offset = 0;
        var parts = argument.Split(' ');
        if (parts.Length != 3 || !RoomNames.IsValid(parts[0]) || parts[1].Length is 0 or > 18
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out offset)
            || parts[2].Length != 8 || !parts[2].All(char.IsAsciiLetterOrDigit))
        {
            return false;
        }

        room = parts[0];
        epoch = parts[2];
        return true;
    }
}
