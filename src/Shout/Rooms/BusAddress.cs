using System.Text.RegularExpressions;

namespace Shout.Rooms;

/// <summary>
/// The NATS servers of the room bus: one or more <c>nats://</c> or <c>tls://</c> URLs, tried in the
/// order given. A URL may carry <c>user:password@</c> or <c>token@</c>; <see cref="ToString"/> and
/// <see cref="Redacted"/> never show them, so the address can be logged anywhere. Immutable.
/// </summary>
public sealed partial class BusAddress
{
    private readonly string _url;

    private BusAddress(IReadOnlyList<Uri> servers)
    {
        Servers = servers;
        _url = string.Join(',', servers.Select(s => s.OriginalString));
        Redacted = string.Join(',', servers.Select(s => Redact(s.OriginalString)));
    }

    /// <summary>The servers, in order, credentials included.</summary>
    public IReadOnlyList<Uri> Servers { get; }

    /// <summary>The servers with any password or token replaced by <c>***</c>: safe for logs.</summary>
    public string Redacted { get; }

    /// <summary>True when any server is <c>tls://</c>.</summary>
    public bool AnyTls => Servers.Any(s => s.Scheme == "tls");

    /// <summary>The comma-separated list NATS.Net takes, credentials included: never log it.</summary>
    internal string NatsUrl => _url;

    /// <summary>One server, e.g. <c>nats://127.0.0.1:4222</c>.</summary>
    public static BusAddress FromServer(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return Parse(server.OriginalString) ?? throw new FormatException("a bus server is needed");
    }

    /// <summary>
    /// Parses <c>nats://HOST:PORT</c> or <c>tls://HOST:PORT</c>, several separated by commas (or
    /// <c>none</c>/empty for the in-process bus: null).
    /// </summary>
    /// <exception cref="FormatException">Anything else, with a one-line reason that shows no credential.</exception>
    public static BusAddress? Parse(string text) => Parse([text]);

    /// <summary>As <see cref="Parse(string)"/>, over several values (a repeated option), joined.</summary>
    public static BusAddress? Parse(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var servers = new List<Uri>();
        foreach (var text in texts)
        {
            ArgumentNullException.ThrowIfNull(text);
            if (text.Length == 0 || text.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls") || uri.Port <= 0
                    || uri.AbsolutePath is not ("/" or "") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
                {
                    throw new FormatException($"'{Redact(part)}' is not a bus address: use nats://HOST:PORT or tls://HOST:PORT, several separated by commas (or none)");
                }

                servers.Add(uri);
            }
        }

        return servers.Count == 0 ? null : new BusAddress(servers);
    }

    /// <summary>
    /// A URL (or any text holding URLs) with the password, or a lone user part (a token), replaced by
    /// <c>***</c>: <c>nats://u:***@h:4222</c>, <c>nats://***@h:4222</c>.
    /// </summary>
    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return UserInfo().Replace(text, m => m.Groups["password"].Success
            ? $"//{m.Groups["user"].Value}:***@"
            : "//***@");
    }

    /// <summary>The redacted servers.</summary>
    public override string ToString() => Redacted;

    [GeneratedRegex(@"//(?<user>[^/@:\s,]*)(:(?<password>[^/@\s,]*))?@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfo();
}
