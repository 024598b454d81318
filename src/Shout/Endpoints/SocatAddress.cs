namespace Shout.Endpoints;

/// <summary>
/// socat's address forms, read as Shout's: <c>TCP:HOST:PORT</c> (also TCP4, TCP6), <c>UDP:HOST:PORT</c>
/// (UDP4, UDP6), <c>UNIX-CONNECT:/path</c> (UNIX-CLIENT, and the URL-less <c>unix:/path</c>) and
/// <c>OPENSSL:HOST:PORT</c> (TLS); the type is case-insensitive as in socat. Users coming from socat
/// type these by habit: reading them is kinder than a puzzling "put an IPv6 address in brackets".
/// </summary>
internal static class SocatAddress
{
    /// <summary>
    /// True when <paramref name="value"/> (no <c>://</c>) starts with a socat address type; gives the
    /// Shout scheme and the rest. socat's own options (<c>,reuseaddr</c>) are refused by name.
    /// </summary>
    public static bool TryRead(string text, string value, out string scheme, out string rest)
    {
        scheme = "";
        rest = "";
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var type = value[..colon].ToLowerInvariant();
        var after = value[(colon + 1)..];
        string? mapped = type switch
        {
            "tcp" or "tcp4" or "tcp6" or "tcp-connect" => "tcp",
            "udp" or "udp4" or "udp6" or "udp-connect" or "udp-sendto" => "udp",
            "openssl" or "openssl-connect" or "ssl" or "tls" => "tls",
            "unix" or "unix-connect" or "unix-client" => "unix",
            _ => null,
        };

        // "tcp:8080" could be a host named tcp; only HOST:PORT after an IP type is socat's.
        if (mapped is null || (mapped != "unix" && !after.Contains(':', StringComparison.Ordinal)) || after.Length == 0)
        {
            return false;
        }

        var comma = after.IndexOf(',', StringComparison.Ordinal);
        if (comma >= 0)
        {
            throw new FormatException($"'{text}': socat options ('{after[comma..]}') are not taken; write the address alone, e.g. {type.ToUpperInvariant()}:{after[..comma]}");
        }

        scheme = mapped;
        rest = after;
        return true;
    }
}
