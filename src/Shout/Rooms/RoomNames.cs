namespace Shout.Rooms;

/// <summary>
/// Which nicknames and room names are valid: 1 to 32 ASCII letters, digits, <c>_</c> or <c>-</c>.
/// The same rule for both, so a room name is always one NATS subject token.
/// </summary>
internal static class RoomNames
{
    public const int MaxLength = 32;

    public const string Rule = "1-32 letters, digits, _ or -";

    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
