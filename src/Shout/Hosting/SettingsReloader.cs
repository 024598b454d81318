using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Shout.Sessions;
using Shout.Transports.Tls;

namespace Shout.Hosting;

/// <summary>
/// Applies freshly read settings to a running server: the TLS certificate and key, the access
/// lists, the connection limits and the log level. Open connections keep going; new connections
/// (and new TLS handshakes) see the new settings. A certificate that fails to load keeps the old one
/// and says why in one line; a source that fails (a bad file, a bad rule) changes nothing. Other
/// settings (endpoints, mode, timeouts) need a restart: a reload that finds one changed applies the
/// rest and reports it (<see cref="RestartOnlySettings"/>). One reload at a time.
/// </summary>
internal sealed partial class SettingsReloader(LiveSettings live, SessionRules rules, bool servesTls, SystemdNotify notify,
    ILogger<SettingsReloader> logger, RestartOnlySettings? restartOnly = null)
{
    private readonly Lock _gate = new();

    /// <summary>Reads the settings anew (the host's flags, variables and files); throws with a one-line message when they are wrong.</summary>
    public Func<ShoutServerOptions>? Source { get; set; }

    public ReloadResult Reload()
    {
        lock (_gate)
        {
            notify.Reloading();
            var result = Apply();
            foreach (var change in result.Changes)
            {
                Log.Changed(logger, change);
            }

            if (result.RestartNeeded.Count > 0)
            {
                Log.RestartNeeded(logger, RestartNeededLine(result.RestartNeeded));
            }

            foreach (var error in result.Errors)
            {
                Log.Failed(logger, error);
            }

            Log.Done(logger, result.Changes.Count, result.Errors.Count);
            notify.Reloaded(result.Errors.Count == 0 ? "serving (reloaded)" : "serving (reload had errors: see the log)");
            return result;
        }
    }

    private ReloadResult Apply()
    {
        if (Source is not { } source)
        {
            return new([], ["this server has no settings source to reload from"]);
        }

        ShoutServerOptions fresh;
        try
        {
            fresh = source();
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            return new([], [$"{e.Message}; nothing changed"]);
        }

        var current = live.Current;
        var changes = new List<string>();
        var errors = new List<string>();
        var certificate = current.Certificate;
        if (servesTls && fresh.Tls.CertificatePath is { Length: > 0 } path)
        {
            try
            {
                var loaded = ServerCertificates.Load(fresh.Tls);
                if (certificate is not null && loaded.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                {
                    loaded.Dispose();
                }
                else
                {
                    certificate = loaded;
                    changes.Add($"TLS certificate {loaded.Subject} from {path}, SHA-256 fingerprint {ServerCertificates.Fingerprint(loaded)}");
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or CryptographicException)
            {
                errors.Add($"{e.Message.Split('\n')[0]}; keeping the current certificate"
                    + (certificate is null ? "" : $" (SHA-256 {ServerCertificates.Fingerprint(certificate)})"));
            }
        }

        if (!SameRules(current.Access, fresh.Access))
        {
            changes.Add(string.Create(CultureInfo.InvariantCulture,
                $"access lists: {fresh.Access.Allow.Count} allow and {fresh.Access.Deny.Count} deny rules"));
        }

        if (current.MaxConnections != fresh.MaxConnections)
        {
            changes.Add(string.Create(CultureInfo.InvariantCulture, $"max connections {current.MaxConnections} -> {fresh.MaxConnections}"));
        }

        if (current.MaxConnectionsPerAddress != fresh.MaxConnectionsPerAddress)
        {
            changes.Add(string.Create(CultureInfo.InvariantCulture,
                $"max connections per address {current.MaxConnectionsPerAddress} -> {fresh.MaxConnectionsPerAddress}"));
        }

        if (current.LogLevel != fresh.LogLevel)
        {
            changes.Add($"log level {current.LogLevel} -> {fresh.LogLevel}");
        }

        // The replaced certificate is not disposed: TLS sessions opened with it may still use it.
        live.Swap(ReloadableSettings.From(fresh, certificate));

        // New sessions on every transport are admitted by the new rules; open ones keep going.
        rules.Replace(rules.Current with
        {
            Access = fresh.Access,
            MaxConnections = fresh.MaxConnections,
            MaxConnectionsPerAddress = fresh.MaxConnectionsPerAddress,
        });
        return new(changes, errors) { RestartNeeded = restartOnly?.Changed(fresh) ?? [] };
    }

    /// <summary>The one line that names the changed settings a reload did not apply.</summary>
    public static string RestartNeededLine(IReadOnlyList<string> settings) =>
        $"not applied, restart needed: {string.Join("; ", settings)}";

    private static bool SameRules(AccessList a, AccessList b) =>
        a.Allow.SequenceEqual(b.Allow) && a.Deny.SequenceEqual(b.Deny);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.ReloadChanged, LogLevel.Information, "reload: {Change}", EventName = "ReloadChanged")]
        public static partial void Changed(ILogger logger, string change);

        [LoggerMessage(LogEvents.ReloadFailed, LogLevel.Error, "reload: {Error}", EventName = "ReloadFailed")]
        public static partial void Failed(ILogger logger, string error);

        [LoggerMessage(LogEvents.ReloadRestartNeeded, LogLevel.Warning, "reload: {Line}", EventName = "ReloadRestartNeeded")]
        public static partial void RestartNeeded(ILogger logger, string line);

        [LoggerMessage(LogEvents.ReloadDone, LogLevel.Information, "reload done: {Changes} change(s), {Errors} error(s)", EventName = "ReloadDone")]
        public static partial void Done(ILogger logger, int changes, int errors);
    }
}

/// <summary>What a reload changed and what it could not do (each a one-line message).</summary>
/// <param name="Changes">The settings now in effect that differ from before.</param>
/// <param name="Errors">What was kept as it was, and why.</param>
public sealed record ReloadResult(IReadOnlyList<string> Changes, IReadOnlyList<string> Errors)
{
    /// <summary>Restart-only settings the sources changed, which this reload did not apply (e.g. <c>--mode stream -> room</c>).</summary>
    public IReadOnlyList<string> RestartNeeded { get; init; } = [];

    /// <summary>True when nothing failed.</summary>
    public bool Succeeded => Errors.Count == 0;
}
