using Microsoft.Extensions.Logging;

namespace Shout.Transports;

internal static partial class TransportLog
{
    [LoggerMessage(LogEvents.TlsCertificate, LogLevel.Information, "TLS certificate {Subject} ({Source}), SHA-256 fingerprint {Fingerprint}", EventName = "TlsCertificate")]
    public static partial void TlsCertificate(ILogger logger, string subject, string source, string fingerprint);

    [LoggerMessage(LogEvents.StaleUnixSocketRemoved, LogLevel.Information, "removed the stale socket file unix://{Path} (nothing was listening on it)", EventName = "StaleUnixSocketRemoved")]
    public static partial void StaleUnixSocketRemoved(ILogger logger, string path);
}
