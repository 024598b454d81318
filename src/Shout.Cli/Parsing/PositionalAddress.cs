using System.Globalization;
using System.Net;
using Shout.Endpoints;

namespace Shout.Cli.Parsing;

/// <summary>
/// The address forms other tools' users type without <c>-a</c>: nc's <c>HOST PORT</c>, websocat's
/// and curl's URL (<c>ws://HOST:PORT/ws</c>, any Shout scheme) and a <c>HOST:PORT</c> whose host is an IP
/// literal or localhost. The rule, for <c>send</c>, when no <c>-a</c> is given and the words did not follow
/// <c>--</c>: a first word with a scheme (<c>x://</c>) is the address (an unknown scheme is refused);
/// a first word that is a host name or IP literal followed by a second word of digits only is
/// <c>HOST PORT</c>, as nc reads it, even if it was meant as text (<c>shout send -- word 1234</c> sends it).
/// Everything after the address is the message. An address is never sent as data.
/// </summary>
internal static class PositionalAddress
{
    /// <summary>How the words split: the address they start with (or null), the rest, or why they cannot be used.</summary>
    internal readonly record struct Split(ShoutEndpoint? Address, string[] Rest, string? Error);

    /// <summary>Reads the leading address of <paramref name="words"/> (send's rule, see the class).</summary>
    public static Split Leading(string[] words)
    {
        if (words.Length == 0)
        {
            return new(null, words, null);
        }

        var first = words[0];
        if (first.Contains("://", StringComparison.Ordinal))
        {
            return ShoutEndpoint.TryParse(first, out var url, out var error)
                ? new(url, words[1..], null)
                : new(null, words, $"{error} (to send it as text: shout send -- {first})");
        }

        if (words.Length >= 2 && IsHost(first) && IsPort(words[1]))
        {
            var host = first.Contains(':', StringComparison.Ordinal) ? $"[{first}]" : first;
            return ShoutEndpoint.TryParse($"{host}:{words[1]}", out var hostPort, out var error)
                ? new(hostPort, words[2..], null)
                : new(null, words, $"{error} (to send it as text: shout send -- {first} {words[1]})");
        }

        if (IsLiteralHostPort(first, out var literal))
        {
            return new(literal, words[1..], null);
        }

        return new(null, words, null);
    }

    /// <summary>
    /// Chat's rule: its words can only be an address (it takes no message): one word in any form
    /// <c>-a</c> takes, or <c>HOST PORT</c>.
    /// </summary>
    public static Split Only(string[] words)
    {
        const string Hint = "expected an address (HOST PORT, HOST:PORT or a URL such as ws://HOST:PORT/ws), or -a ADDRESS";
        if (words.Length == 0)
        {
            return new(null, words, null);
        }

        if (words.Length == 1)
        {
            return ShoutEndpoint.TryParse(words[0], out var endpoint, out var error)
                ? new(endpoint, [], null)
                : new(null, words, $"{error}; {Hint}");
        }

        if (words.Length == 2 && IsHost(words[0]) && IsPort(words[1]))
        {
            return Leading(words);
        }

        return new(null, words, $"unexpected argument '{string.Join(' ', words)}': {Hint}");
    }

    private static bool IsPort(string word) =>
        word.Length is > 0 and <= 5 && word.All(char.IsAsciiDigit) && int.Parse(word, CultureInfo.InvariantCulture) <= 65535;

    /// <summary>An IP literal (IPv6 with or without brackets) or a DNS name (letters, digits, '-', '.').</summary>
    private static bool IsHost(string word)
    {
        var bare = word.StartsWith('[') && word.EndsWith(']') ? word[1..^1] : word;
        if (IsIpLiteral(bare))
        {
            return true;
        }

        return word.Length is > 0 and <= 253 && word[0] != '-' && word[0] != '.'
            && word.Any(char.IsAsciiLetter)
            && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');
    }

    /// <summary>A dotted-quad IPv4 or an IPv6 literal (IPAddress.TryParse alone takes "1234" as 0.0.4.210).</summary>
    private static bool IsIpLiteral(string word) =>
        IPAddress.TryParse(word, out var address)
        && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? word.Contains(':', StringComparison.Ordinal) : word.Count(c => c == '.') == 3);

    /// <summary>A HOST:PORT whose host can only be an address: an IP literal or localhost.</summary>
    private static bool IsLiteralHostPort(string word, out ShoutEndpoint? endpoint)
    {
        endpoint = null;
        var colon = word.LastIndexOf(':');
        if (colon <= 0 || !IsPort(word[(colon + 1)..]))
        {
            return false;
        }

        var host = word[..colon];
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        var isAddress = (host != bare || !bare.Contains(':', StringComparison.Ordinal)) && IsIpLiteral(bare);
        if (!isAddress && !string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return ShoutEndpoint.TryParse(word, out endpoint, out _);
    }
}
