using Microsoft.Extensions.Logging;

namespace Shout.Server;

internal static partial class TransportLog
{
    [LoggerMessage(201, LogLevel.Information, "TLS certificate {Subject} ({Source}), SHA-256 fingerprint {Fingerprint}")]
    public static partial void TlsCertificate(ILogger logger, string subject, string source, string fingerprint);

    [LoggerMessage(202, LogLevel.Information, "removed the stale socket file unix://{Path} (nothing was listening on it)")]
    public static partial void StaleUnixSocketRemoved(ILogger logger, string path);
}
