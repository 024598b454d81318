using System.Globalization;
using System.Net;
using Shout.Configuration;

namespace Shout.Sessions;

/// <summary>
/// Which client addresses may connect: CIDR allow and deny lists, IPv4 and IPv6. Deny wins; an
/// empty allow list allows everyone not denied. An IPv4 client reached over a dual-stack socket
/// (<c>::ffff:10.1.2.3</c>) is matched as the IPv4 address it is. Immutable and thread-safe; pure
/// (no I/O besides <see cref="Load"/>).
/// </summary>
public sealed class AccessList
{
    private readonly IPNetwork[] _allow;
    private readonly IPNetwork[] _deny;

    private AccessList(IPNetwork[] allow, IPNetwork[] deny)
    {
        _allow = allow;
        _deny = deny;
    }

    /// <summary>No rules: every address may connect.</summary>
    public static AccessList Everyone { get; } = new([], []);

    /// <summary>The allow rules, as written in canonical form.</summary>
    public IReadOnlyList<IPNetwork> Allow => _allow;

    /// <summary>The deny rules.</summary>
    public IReadOnlyList<IPNetwork> Deny => _deny;

    /// <summary>True when there is at least one rule.</summary>
    public bool HasRules => _allow.Length > 0 || _deny.Length > 0;

    /// <summary>Builds a list from CIDR texts (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>, or a single address).</summary>
    /// <exception cref="FormatException">A rule is not a CIDR block or address; the message names it.</exception>
    public static AccessList Create(IEnumerable<string> allow, IEnumerable<string> deny)
    {
        ArgumentNullException.ThrowIfNull(allow);
        ArgumentNullException.ThrowIfNull(deny);
        return new([.. allow.Select(ParseNetwork)], [.. deny.Select(ParseNetwork)]);
    }

    /// <summary>
    /// Adds the rules of an access file to this list: one rule per line, <c>allow CIDR</c> or
    /// <c>deny CIDR</c>; blank lines and <c>#</c> comments are ignored.
    /// </summary>
    /// <exception cref="FormatException">A line is not a rule; the message gives its number.</exception>
    public AccessList With(IEnumerable<string> fileLines, string source = "access file")
    {
        ArgumentNullException.ThrowIfNull(fileLines);
        var allow = new List<IPNetwork>(_allow);
        var deny = new List<IPNetwork>(_deny);
        var number = 0;
        foreach (var raw in fileLines)
        {
            number++;
            var line = raw.Split('#', 2)[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var target = parts.Length != 2 ? null
                : parts[0].Equals("allow", StringComparison.OrdinalIgnoreCase) ? allow
                : parts[0].Equals("deny", StringComparison.OrdinalIgnoreCase) ? deny
                : null;
            if (target is null)
            {
                throw new FormatException($"{source}:{number}: expected 'allow CIDR' or 'deny CIDR', got '{line}'");
            }

            try
            {
                target.Add(ParseNetwork(parts[1]));
            }
            catch (FormatException e)
            {
                throw new FormatException($"{source}:{number}: {e.Message}", e);
            }
        }

        return new([.. allow], [.. deny]);
    }

    /// <summary>
    /// Reads an access file (see <see cref="With"/>) and adds its rules. Only a regular file of at most
    /// 1 MiB is read, so a device or a FIFO named by mistake cannot hang a start or a reload.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read, is not a regular file, or is too large.</exception>
    public AccessList Load(string path) =>
        With(OptionFile.ReadAllText("--access-file", path, SizeLimits.TextFile).Split('\n').Select(l => l.TrimEnd('\r')), path);

    /// <summary>True when <paramref name="address"/> may connect: not denied, and allowed when there is an allow list.</summary>
    public bool IsAllowed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!HasRules)
        {
            return true;
        }

        var plain = PeerAddress.Normalize(address);
        if (Matches(_deny, address, plain))
        {
            return false;
        }

        return _allow.Length == 0 || Matches(_allow, address, plain);
    }

    private static bool Matches(IPNetwork[] rules, IPAddress address, IPAddress plain)
    {
        foreach (var rule in rules)
        {
            // A rule written as ::ffff:a.b.c.d/n matches the mapped form; a rule a.b.c.d/n the plain one.
            if (rule.Contains(plain) || (!ReferenceEquals(plain, address) && rule.Contains(address)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses <c>ADDRESS/PREFIX</c> or a single <c>ADDRESS</c> (a /32 or /128).</summary>
    internal static IPNetwork ParseNetwork(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? value : value[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal))
        {
            throw new FormatException($"'{text}' is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)");
        }

        var max = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var prefix = max;
        if (slash >= 0 && (!int.TryParse(value.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max))
        {
            throw new FormatException($"'{text}': the prefix length must be a number from 0 to {max}");
        }

        // IPNetwork would quietly clear bits after the prefix; in an access rule that is more likely a
        // typo (10.0.0.1/8 for 10.0.0.1/32) than intent, so say so.
        var network = new IPNetwork(address, prefix);
        if (!network.BaseAddress.Equals(address))
        {
            throw new FormatException($"'{text}' has bits set after the /{prefix} prefix; did you mean {network}?");
        }

        return network;
    }
}
