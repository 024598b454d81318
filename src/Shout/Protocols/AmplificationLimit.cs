namespace Shout.Protocols;

/// <summary>
/// QUIC's anti-amplification rule (RFC 9000 §8) for every UDP source: until a source has shown that
/// it receives at its address, the server sends it at most three times the bytes it sent. A datagram
/// with a spoofed source address then costs its victim no more than three times what the spoofer
/// paid. Stream and line mode stay far below it (a reply is at most 1.5× its datagram: uppercasing
/// grows ȿ from 2 bytes to 3); room mode's join challenge is held to it, and a room member is
/// confirmed by echoing its token. Pure; thread-safe.
/// </summary>
internal static class AmplificationLimit
{
    /// <summary>How many times the bytes received an unconfirmed source may be sent.</summary>
    public const int Factor = 3;

    /// <summary>True when <paramref name="next"/> more bytes keep the total sent within the limit.</summary>
    /// <param name="received">Every byte received from the source, the datagram being answered included.</param>
    /// <param name="sent">Every byte already sent to it.</param>
    /// <param name="next">The reply about to be sent.</param>
    public static bool Allows(long received, long sent, int next) => sent + next <= Factor * received;
}
