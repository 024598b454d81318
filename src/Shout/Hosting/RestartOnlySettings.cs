using System.Globalization;

namespace Shout.Hosting;

/// <summary>
/// The settings a reload cannot apply (endpoints, mode, timeouts, transport tuning, the web endpoint's
/// own settings): a running server keeps what it started with. A reload compares each with what the
/// sources say now and reports the ones that differ, so an operator who changed <c>--mode</c> or
/// <c>--idle-timeout</c> and reloaded learns that a restart is needed instead of believing it applied.
/// Every property of <see cref="ShoutServerOptions"/> is either here or in <see cref="Reloadable"/>
/// (a test holds that, so a new option must be classified).
/// </summary>
internal sealed class RestartOnlySettings
{
    // Name as the operator writes it; the options property path (for the completeness test); its value as text.
    private static readonly Setting[] All =
    [
        new("--listen", "Listen", o => string.Join(' ', o.Listen)),
        new("--mode", "Mode", o => Lower(o.Mode)),
        new("--max-line", "MaxLineLength", o => Number(o.MaxLineLength)),
        new("--slow-member", "Rooms.SlowMember", o => Lower(o.Rooms.SlowMember)),
        new("--room-queue", "Rooms.QueueLength", o => Number(o.Rooms.QueueLength)),
        new("--room-history", "Rooms.History", o => Number(o.Rooms.History)),
        new("--room-history-age", "Rooms.HistoryAge", o => Duration(o.Rooms.HistoryAge)),
        new("room history bytes", "Rooms.HistoryBytes", o => Number(o.Rooms.HistoryBytes)),
        new("room history rooms", "Rooms.HistoryRooms", o => Number(o.Rooms.HistoryRooms)),
        new("--bus", "Rooms.Bus.Address", o => o.Rooms.Bus.Address?.Redacted ?? "none", Secret: true),
        new("--bus-creds", "Rooms.Bus.CredsFile", o => o.Rooms.Bus.CredsFile ?? "none"),
        new("--bus-nkey", "Rooms.Bus.NKeyFile", o => o.Rooms.Bus.NKeyFile ?? "none"),
        new("--bus-user", "Rooms.Bus.User", o => o.Rooms.Bus.User ?? "none"),
        new("bus password", "Rooms.Bus.Password", o => o.Rooms.Bus.Password ?? "", Secret: true),
        new("bus token", "Rooms.Bus.Token", o => o.Rooms.Bus.Token ?? "", Secret: true),
        new("--bus-ca", "Rooms.Bus.CaFile", o => o.Rooms.Bus.CaFile ?? "none"),
        new("--bus-tls", "Rooms.Bus.Tls", o => Flag(o.Rooms.Bus.Tls)),
        new("--bus-exactly-once", "Rooms.Bus.ExactlyOnce", o => Flag(o.Rooms.Bus.ExactlyOnce)),
        new("--bus-shared-offsets", "Rooms.Bus.SharedOffsets", o => Flag(o.Rooms.Bus.SharedOffsets)),
        new("--bus-replicas", "Rooms.Bus.Replicas", o => Number(o.Rooms.Bus.Replicas)),
        new("bus sender limit", "Rooms.Bus.SenderLimit", o => Number(o.Rooms.Bus.SenderLimit)),
        new("bus sender idle time", "Rooms.Bus.SenderIdle", o => Duration(o.Rooms.Bus.SenderIdle)),
        new("room who timeout", "Rooms.WhoTimeout", o => Duration(o.Rooms.WhoTimeout)),
        new("--room-presence-heartbeat", "Rooms.PresenceHeartbeat", o => Duration(o.Rooms.PresenceHeartbeat)),
        new("--transport", "Transport", o => Lower(o.Transport)),
        new("--inline-scheduling", "Sockets.InlineScheduling", o => Flag(o.Sockets.InlineScheduling)),
        new("--io-queues", "Sockets.IOQueueCount", o => o.Sockets.IOQueueCount is { } n ? Number(n) : "default"),
        new("--wait-for-data", "Sockets.WaitForDataBeforeAllocatingBuffer", o => Flag(o.Sockets.WaitForDataBeforeAllocatingBuffer)),
        new("--block-size", "Sockets.BlockSize", o => Number(o.Sockets.BlockSize)),
        new("listen backlog", "Sockets.Backlog", o => Number(o.Sockets.Backlog)),
        new("socket write buffer", "Sockets.MaxWriteBufferSize", o => Number(o.Sockets.MaxWriteBufferSize)),
        new("--reuse-port", "ReusePort", o => Flag(o.ReusePort)),
        new("--shutdown-timeout", "ShutdownTimeout", o => Duration(o.ShutdownTimeout)),
        new("--idle-timeout", "IdleTimeout", o => Duration(o.IdleTimeout)),
        new("--write-timeout", "WriteTimeout", o => Duration(o.WriteTimeout)),
        new("--line-timeout", "LineTimeout", o => Duration(o.LineTimeout)),
        new("--udp-rate", "UdpRatePerSource", o => Number(o.UdpRatePerSource)),
        new("--udp-lease", "UdpLease", o => Duration(o.UdpLease)),
        new("--proxy-protocol", "ProxyProtocol", o => Flag(o.ProxyProtocol)),
        new("--trusted-proxy", "TrustedProxies", o => string.Join(' ', o.TrustedProxies)),
        new("--proxy-timeout", "ProxyHeaderTimeout", o => Duration(o.ProxyHeaderTimeout)),
        new("--tls-handshake-timeout", "Tls.HandshakeTimeout", o => Duration(o.Tls.HandshakeTimeout)),
        new("--unix-mode", "UnixSocketMode", o => Convert.ToString((int)o.UnixSocketMode, 8)),
        new("--web", "Web.Address", o => o.Web.Address?.ToString() ?? "none"),
        new("--web-origin", "Web.AllowedOrigins", o => string.Join(' ', o.Web.AllowedOrigins)),
        new("--admin-allow", "Web.AdminAllow", o => string.Join(' ', o.Web.AdminAllow)),
        new("--web-host", "Web.Hosts", o => string.Join(' ', o.Web.Hosts)),
        new("--reload-endpoint", "Web.ReloadEndpoint", o => Flag(o.Web.ReloadEndpoint)),
        new("reload token", "Web.ReloadToken", o => o.Web.ReloadToken ?? "", Secret: true),
        new("reload interval", "Web.ReloadInterval", o => Duration(o.Web.ReloadInterval)),
        new("--trace", "Web.Trace", o => Flag(o.Web.Trace)),
        new("WebSocket message limit", "Web.MaxMessageBytes", o => Number(o.Web.MaxMessageBytes)),
        new("WebSocket limit", "Web.MaxWebSockets", o => o.Web.MaxWebSockets is { } n ? Number(n) : "none"),
        new("live view limit", "Web.MaxLiveViewers", o => Number(o.Web.MaxLiveViewers)),
        new("WebSocket keep-alive interval", "Web.KeepAliveInterval", o => Duration(o.Web.KeepAliveInterval)),
        new("WebSocket keep-alive timeout", "Web.KeepAliveTimeout", o => Duration(o.Web.KeepAliveTimeout)),
    ];

    private readonly string[] _started;

    /// <summary>Remembers <paramref name="started"/>'s restart-only values: what the running server has.</summary>
    public RestartOnlySettings(ShoutServerOptions started) => _started = [.. All.Select(s => s.Value(started))];

    /// <summary>
    /// The option properties a reload applies (<see cref="SettingsReloader"/>), or that are no setting
    /// (<c>Systemd</c>: how the process was started).
    /// </summary>
    public static IReadOnlyList<string> Reloadable { get; } =
        ["Access", "MaxConnections", "MaxConnectionsPerAddress", "LogLevel", "Tls.CertificatePath", "Tls.KeyPath", "Tls.Password", "Systemd"];

    /// <summary>The option properties this class compares.</summary>
    public static IReadOnlyList<string> Properties { get; } = [.. All.Select(s => s.Property)];

    /// <summary>Each restart-only setting that <paramref name="fresh"/> changes, e.g. <c>--mode stream -> room</c>; secrets without their values.</summary>
    public IReadOnlyList<string> Changed(ShoutServerOptions fresh)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        var changed = new List<string>();
        for (var i = 0; i < All.Length; i++)
        {
            var now = All[i].Value(fresh);
            if (now != _started[i])
            {
                changed.Add(All[i].Secret ? $"{All[i].Name} changed" : $"{All[i].Name} {Shown(_started[i])} -> {Shown(now)}");
            }
        }

        return changed;
    }

    private static string Shown(string value) => value.Length == 0 ? "none" : value;

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Flag(bool value) => value ? "on" : "off";

    private static string Duration(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###}s");

    private sealed record Setting(string Name, string Property, Func<ShoutServerOptions, string> Value, bool Secret = false);
}
