using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Shout.Sessions;

namespace Shout.Hosting;

/// <summary>
/// The settings a reload may change, read per connection by admission and by the TLS handshake.
/// A reload swaps the whole snapshot at once, so a connection sees either the old settings or the
/// new ones, never a mix. Thread-safe.
/// </summary>
internal sealed class LiveSettings(ReloadableSettings initial)
{
    private ReloadableSettings _current = initial;

    public ReloadableSettings Current => Volatile.Read(ref _current);

    /// <summary>Makes <paramref name="next"/> current; returns the one it replaced.</summary>
    public ReloadableSettings Swap(ReloadableSettings next) => Interlocked.Exchange(ref _current, next);
}

/// <summary>One immutable snapshot of the reloadable settings.</summary>
internal sealed record ReloadableSettings(
    AccessList Access,
    int MaxConnections,
    int MaxConnectionsPerAddress,
    X509Certificate2? Certificate,
    LogLevel LogLevel)
{
    /// <summary>What a client over the global limit is told.</summary>
    /// <summary>What a client over the per-address limit is told.</summary>
    public static ReloadableSettings From(ShoutServerOptions options, X509Certificate2? certificate) =>
        new(options.Access, options.MaxConnections, options.MaxConnectionsPerAddress, certificate, options.LogLevel);
}
