using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.Server;

namespace Shout.Cli.Commands;

/// <summary>
/// Kestrel reports every failed bind as "Failed to bind to address http://HOST:PORT", even for a raw
/// TCP or TLS listener; this names the listener the user wrote (or the web page) instead.
/// </summary>
internal static partial class BindErrors
{
    public static string Describe(IOException e, ShoutServerOptions options)
    {
        var reason = (e.InnerException?.Message ?? e.Message).TrimEnd('.').ToLowerInvariant();
        var match = KestrelBind().Match(e.Message);
        if (!match.Success)
        {
            return $"cannot listen: {e.Message}";
        }

        var host = match.Groups["host"].Value.Trim('[', ']');
        var port = int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);
        var web = options.Web.Address;
        if (web is not null && web.Port == port && SameHost(web.Host.Trim('[', ']'), host))
        {
            return $"cannot serve the web page on {web.GetLeftPart(UriPartial.Authority)} (--web): {reason}";
        }

        var listener = options.Listen.FirstOrDefault(l => l.Transport is ShoutTransport.Tcp or ShoutTransport.Tls && l.Port == port && SameHost(l.Host, host))
            ?? options.Listen.FirstOrDefault(l => l.Transport is ShoutTransport.Tcp or ShoutTransport.Tls && l.Port == port);
        return listener is null
            ? $"cannot listen on port {port}: {reason}"
            : $"cannot listen on {listener}: {reason}";
    }

    // Kestrel writes 0.0.0.0 or [::] as given, localhost for loopback names.
    private static bool SameHost(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"Failed to bind to address https?://(?<host>\[[^\]]+\]|[^:/]+):(?<port>\d+)")]
    private static partial Regex KestrelBind();
}
