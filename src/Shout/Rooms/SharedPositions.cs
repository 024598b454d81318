namespace Shout.Rooms;

/// <summary>
/// The epoch word of a position with shared offsets: two letters or digits naming the room stream
/// (<see cref="StreamId"/>, the same on every instance of a deployment), then the anchor's stream
/// sequence in six (base 62). Eight letters and digits, as a position's epoch always is, so clients
/// keep it as they keep any epoch. Pure.
/// </summary>
internal static class SharedPositions
{
    private const string Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>Largest anchor six digits of base 62 hold (about 5.7 × 10^10 messages).</summary>
    public const long MaxAnchor = 56_800_235_583;

    /// <summary>Two digits from the stream's creation time: a stream made again (its sequences starting over) gets other epochs.</summary>
    public static string StreamId(DateTimeOffset created)
    {
        var hash = (ulong)created.UtcTicks * 0x9E3779B97F4A7C15UL;
        var value = (int)((hash >> 40) % (62 * 62));
        return string.Concat(Digits[value / 62], Digits[value % 62]);
    }

    /// <summary>The epoch of a position after <paramref name="anchor"/> (at most <see cref="MaxAnchor"/>).</summary>
    public static string Epoch(string streamId, long anchor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(anchor);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(anchor, MaxAnchor);
        Span<char> text = stackalloc char[8];
        text[0] = streamId[0];
        text[1] = streamId[1];
        for (var i = 7; i >= 2; i--)
        {
            text[i] = Digits[(int)(anchor % 62)];
            anchor /= 62;
        }

        return new string(text);
    }

    /// <summary>The anchor an epoch names; false when it is not an epoch of <paramref name="streamId"/>.</summary>
    public static bool TryAnchor(string epoch, string streamId, out long anchor)
    {
        anchor = 0;
        if (epoch.Length != 8 || epoch[0] != streamId[0] || epoch[1] != streamId[1])
        {
            return false;
        }

        for (var i = 2; i < 8; i++)
        {
            var digit = Digits.IndexOf(epoch[i], StringComparison.Ordinal);
            if (digit < 0)
            {
                return false;
            }

            anchor = (anchor * 62) + digit;
        }

        return true;
    }
}
