using System.Net;
using System.Net.Sockets;

namespace Shout.Client;

/// <summary>
/// The one place a client's address family choice (<see cref="ShoutClientOptions.Family"/>, the CLI's
/// <c>-4</c>/<c>-6</c>) is applied: every dialer resolves through <see cref="ShoutConnection.ResolveAsync(Shout.Endpoints.ShoutEndpoint, AddressFamily?, CancellationToken)"/>,
/// which keeps only the addresses of that family, so TCP, TLS, UDP, WebSocket and bench agree.
/// </summary>
internal static class AddressFamilies
{
    /// <summary>"IPv4" or "IPv6", as users say it.</summary>
    public static string Name(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    /// <summary>Why <paramref name="host"/>, an IP literal, cannot be dialed with <paramref name="family"/>; null when it can (or is a name).</summary>
    public static string? LiteralMismatch(string host, AddressFamily? family) =>
        family is { } wanted && IPAddress.TryParse(host, out var literal) && literal.AddressFamily != wanted
            ? $"{host} is an {Name(literal.AddressFamily)} address, and only {Name(wanted)} was asked for"
            : null;

    /// <summary>The addresses of <paramref name="family"/> among <paramref name="addresses"/>, in their order; all of them when null.</summary>
    public static IPAddress[] Keep(IPAddress[] addresses, AddressFamily? family) =>
        family is { } wanted ? [.. addresses.Where(a => a.AddressFamily == wanted)] : addresses;
}
