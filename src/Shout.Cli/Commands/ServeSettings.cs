using System.Globalization;
using System.Net;
using Shout.Configuration;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.Protocols.Framing;
using Shout.Rooms;
using Shout.Transports;
using Shout.Web;

namespace Shout.Cli.Commands;

/// <summary>
/// Every <c>serve</c> setting, in one place. To add one: add a line here (key, description, text
/// parser, how it sets <see cref="ServeRun"/>); the flag (<c>--key-name</c>), the environment variable
/// (<c>SHOUT_KEY_NAME</c>) and the configuration key (<c>Shout:KeyName</c>) follow from the key.
/// </summary>
internal static class ServeSettings
{
    // Declared before All: static initializers run in order.
    private static readonly ShoutServerOptions Defaults = new();

    public static IReadOnlyList<ServeSetting> All { get; } =
    [
        new ServeSetting<ShoutEndpoint>("Listen",
            "Endpoint to serve, repeatable: tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT, unix:///PATH "
            + $"([::] listens on IPv6 and IPv4). Default {ShoutServerOptions.DefaultListen}.",
            Endpoint, (run, values) => AddAll(run.Options.Listen, values), repeatable: true, aliases: ["-l"]),
        new ServeSetting<ShoutMode>("Mode",
            "stream: answer every byte as it arrives (the tutorial's behaviour, the default); line: answer whole lines, 'quit' closes; "
            + "room: every line goes to everyone in the sender's room (/nick, /join, /who; docs/rooms.md).",
            Enum<ShoutMode>, (run, values) => run.Options.Mode = values[^1]),
        new ServeSetting<SlowMemberPolicy>("SlowMember",
            "Room mode: a member that does not read is kicked (closed, reason slow_member, once its queue stays full for the write timeout) "
            + "or drop (its oldest lines are dropped and counted). Default kick.",
            Enum<SlowMemberPolicy>, (run, values) => run.Options.Rooms.SlowMember = values[^1]),
        new ServeSetting<int>("RoomQueue",
            $"Room mode: most lines waiting for one member. Default {ShoutRoomOptions.DefaultQueueLength}.",
            text => Integer(text, 1, 1_000_000), (run, values) => run.Options.Rooms.QueueLength = values[^1]),
        new ServeSetting<int>("RoomHistory",
            $"Room mode: a member who joins gets the room's last N lines, and /resume reaches back N lines; 0 for none. Default {ShoutRoomOptions.DefaultHistory}.",
            text => Integer(text, 0, 10_000), (run, values) => run.Options.Rooms.History = values[^1]),
        new ServeSetting<TimeSpan>("RoomHistoryAge",
            "Room mode: lines older than this are not given as history (more than 0). Default 1h.",
            PositiveDuration, (run, values) => run.Options.Rooms.HistoryAge = values[^1]),
        new ServeSetting<string>("Bus",
            "Room mode: share rooms with other instances through NATS: nats://HOST:PORT or tls://HOST:PORT, several by commas or repeats "
            + "(tried in order). Default none (this instance alone). Password or token: SHOUT_BUS_PASSWORD, SHOUT_BUS_TOKEN.",
            BusAddress, (run, values) => run.Options.Rooms.Bus.Address = Shout.Rooms.BusAddress.Parse(values.OfType<string>()),
            repeatable: true, helpName: "url"),
        new ServeSetting<string>("BusCreds",
            "Room bus: authenticate with this NATS .creds file (user JWT and nkey seed).",
            FilePath, (run, values) => run.Options.Rooms.Bus.CredsFile = values[^1], helpName: "file"),
        new ServeSetting<string>("BusNkey",
            "Room bus: authenticate with the nkey seed in this file.",
            FilePath, (run, values) => run.Options.Rooms.Bus.NKeyFile = values[^1], helpName: "file"),
        new ServeSetting<string>("BusUser",
            "Room bus: authenticate as this user; the password is read from SHOUT_BUS_PASSWORD only.",
            Text, (run, values) => run.Options.Rooms.Bus.User = values[^1], helpName: "name"),
        new ServeSetting<bool>("BusTls",
            "Room bus: require TLS to every server, also nats:// ones (tls:// always requires it).",
            Boolean, (run, values) => run.Options.Rooms.Bus.Tls = values[^1], isSwitch: true),
        new ServeSetting<bool>("BusExactlyOnce",
            "Room bus: exactly once across instances, through bus outages, when nats-server runs JetStream (-js); costs latency under load (docs/rooms.md).",
            Boolean, (run, values) => run.Options.Rooms.Bus.ExactlyOnce = values[^1], isSwitch: true),
        new ServeSetting<bool>("BusSharedOffsets",
            "Room bus with --bus-exactly-once: positions the same on every instance, so /resume works on any of them; members' lines are delivered in the room stream's order, their own too (docs/rooms.md).",
            Boolean, (run, values) => run.Options.Rooms.Bus.SharedOffsets = values[^1], isSwitch: true),
        new ServeSetting<int>("BusReplicas",
            $"Room bus with JetStream: how many NATS servers keep the room stream and the presence bucket (1 to {Shout.Rooms.ShoutBusOptions.MaxReplicas}); "
            + "3 in a cluster of 3 or more survives losing one server. Default 1.",
            text => Integer(text, 1, Shout.Rooms.ShoutBusOptions.MaxReplicas), (run, values) => run.Options.Rooms.Bus.Replicas = values[^1]),
        new ServeSetting<TimeSpan>("RoomPresenceHeartbeat",
            "Room bus with JetStream: how often this instance says it is alive for /who; one silent for 3 heartbeats loses its members (50ms to 1m). Default 1s.",
            text => Duration(text) is var (d, e) && e is null && (d < Shout.Rooms.Bus.PresenceKeys.MinHeartbeat || d > Shout.Rooms.Bus.PresenceKeys.MaxHeartbeat)
                ? (d, $"'{text}' is not between 50ms and 1m") : Duration(text),
            (run, values) => run.Options.Rooms.PresenceHeartbeat = values[^1]),
        new ServeSetting<string>("BusCa",
            "Room bus: trust the servers' certificates signed by this PEM CA; implies --bus-tls.",
            FilePath, (run, values) => run.Options.Rooms.Bus.CaFile = values[^1], helpName: "file"),
        new ServeSetting<int>("MaxLine",
            $"Line mode: most bytes in one line, not counting its newline (at most {SizeLimits.MaxLineLength}). Default {LineFramer.DefaultMaxLineLength}.",
            text => Integer(text, 1, SizeLimits.MaxLineLength), (run, values) => run.Options.MaxLineLength = values[^1]),
        new ServeSetting<TimeSpan>("ShutdownTimeout",
            "On Ctrl+C or SIGTERM, how long to let connections finish their replies before aborting them. Default 5s.",
            Duration, (run, values) => run.Options.ShutdownTimeout = values[^1]),
        new ServeSetting<string>("TlsCert",
            "TLS certificate: a PKCS#12 file (.pfx/.p12), or PEM (with its key inside or in --tls-key). "
            + $"Password, if any, from ${ServeCommand.TlsPasswordVariable}. Default: a self-signed certificate made at start; its SHA-256 fingerprint is printed.",
            FilePath, (run, values) => run.Options.Tls.CertificatePath = values[^1], helpName: "file"),
        new ServeSetting<string>("TlsKey",
            "TLS: the PEM private key of a PEM --tls-cert.",
            FilePath, (run, values) => run.Options.Tls.KeyPath = values[^1], helpName: "file"),
        new ServeSetting<TimeSpan>("TlsHandshakeTimeout",
            "TLS: close a client that has not finished the handshake after this long (more than 0). Default 10s.",
            PositiveDuration, (run, values) => run.Options.Tls.HandshakeTimeout = values[^1]),
        new ServeSetting<UnixFileMode>("UnixMode",
            "Permissions of unix:// socket files, in octal (clients need write permission). Default 660.",
            Octal, (run, values) => run.Options.UnixSocketMode = values[^1]),
        new ServeSetting<bool>("Verbose",
            "Log each connection's life: accepted, peer closed its side, who closed and why, bytes each way, duration.",
            Boolean, (run, values) => run.Verbose = values[^1], isSwitch: true, aliases: ["-v"]),
        new ServeSetting<ServeLogFormat>("LogFormat",
            "text: one line per event for people (the default); json: one JSON object per line (Microsoft.Extensions.Logging's JSON console format).",
            Enum<ServeLogFormat>, (run, values) => run.LogFormat = values[^1]),
        new ServeSetting<bool>("ProxyProtocol",
            "Expect a PROXY protocol v1/v2 header from a load balancer on every stream connection and use the client address in it. Needs --trusted-proxy.",
            Boolean, (run, values) => run.Options.ProxyProtocol = values[^1], isSwitch: true),
        new ServeSetting<IPNetwork>("TrustedProxy",
            "With --proxy-protocol, a network (CIDR, e.g. 10.0.0.0/8 or ::1/128) allowed to send the header, repeatable; others are closed unread.",
            Network, (run, values) => AddAll(run.Options.TrustedProxies, values), repeatable: true),
        new ServeSetting<TimeSpan>("ProxyTimeout",
            $"With --proxy-protocol, how long a connection may take to send its header (at least {ShoutServerOptions.MinProxyHeaderTimeout.TotalSeconds:0}s). Default 5s.",
            Duration, (run, values) => run.Options.ProxyHeaderTimeout = values[^1]),
        new ServeSetting<Shout.Toxics.ToxicSpec>("Toxic",
            $"A toxic in front of every tcp, tls and unix listener, repeatable (a list in env/config is separated by ';'): {Shout.Toxics.ToxicFlag.Form}, "
            + "as shout proxy's --toxic, e.g. latency:downstream:latency=100 (docs/proxy.md).",
            ServeToxics.Parse, (run, values) => AddAll(run.Toxics, values), repeatable: true, helpName: "toxic", listSeparator: ';'),
        new ServeSetting<bool>("ReusePort",
            "Bind TCP ports with SO_REUSEPORT so several shout processes share one port; the kernel spreads connections over them.",
            Boolean, (run, values) => run.Options.ReusePort = values[^1], isSwitch: true),
        new ServeSetting<string>("Web",
            $"The browser page, WebSocket (/ws), live view, /healthz and /metrics: http://HOST:PORT, https://HOST:PORT (the tls:// certificate), or none. Default {ShoutWebOptions.DefaultAddress}.",
            WebAddress, (run, values) => run.Options.Web.Address = ShoutWebOptions.ParseAddress(values[^1]), helpName: "url"),
        new ServeSetting<TimeSpan>("WsPing",
            "WebSocket: ping a connection this often and abort it (keepalive_timeout) when the pong is this late; a client that reads nothing "
            + "answers no ping, so this also ends a WebSocket that stops reading, before --write-timeout if shorter. 0: no pings. Default 15s.",
            Duration, (run, values) =>
            {
                run.Options.Web.KeepAliveInterval = values[^1];
                run.Options.Web.KeepAliveTimeout = values[^1];
            }),
        new ServeSetting<bool>("ReloadEndpoint",
            $"Serve POST /reload on the web endpoint, which reloads settings like SIGHUP. Needs a token (--reload-token-file or ${ReloadTokenSource.Variable}) "
            + "sent as 'Authorization: Bearer TOKEN'; one reload per second. Off by default.",
            Boolean, (run, values) => run.Options.Web.ReloadEndpoint = values[^1], isSwitch: true),
        new ServeSetting<string>("ReloadTokenFile",
            $"The token POST /reload needs, in the first line of this file (at least {ReloadToken.MinLength} characters; keep the file 0600). "
            + $"Or the token itself in ${ReloadTokenSource.Variable}.",
            FilePath, (run, values) => run.ReloadTokenFile = values[^1], helpName: "file"),
        new ServeSetting<Uri>("WebOrigin",
            "Let pages from this origin (scheme://host[:port]) open /ws and /live, besides the page's own; repeatable. "
            + "Browser requests from any other origin get 403.",
            Origin, (run, values) => AddAll(run.Options.Web.AllowedOrigins, values.OfType<Uri>()), repeatable: true, helpName: "origin"),
        new ServeSetting<IPNetwork>("AdminAllow",
            "Networks (CIDR) allowed to use /metrics, /live and /reload on the web endpoint, repeatable. Default loopback (127.0.0.0/8, ::1).",
            Network, (run, values) => AddAll(run.Options.Web.AdminAllow, values), repeatable: true, helpName: "cidr"),
        new ServeSetting<string>("WebHost",
            "A host name the web endpoint answers to (the Host header), repeatable; others get 421 (DNS rebinding). "
            + "Default: IP addresses, localhost and this machine's name.",
            WebHostName, (run, values) => AddAll(run.Options.Web.Hosts, values.OfType<string>()), repeatable: true, helpName: "name"),
        new ServeSetting<bool>("Trace",
            "Draw the latest connections' packets (handshake, data, close) on the page's live view, like `shout trace`. Needs CAP_NET_RAW.",
            Boolean, (run, values) => run.Options.Web.Trace = values[^1], isSwitch: true),

        // Limits and safety (README): every one has a safe default in ShoutServerOptions.
        new ServeSetting<int>("MaxConnections",
            $"Most connections open at once over every endpoint (a WebSocket or a UDP source counts as one); the next is told 'ERR server busy' and closed. 0: no limit. Default {Defaults.MaxConnections}.",
            Count, (run, values) => run.Options.MaxConnections = values[^1]),
        new ServeSetting<int>("MaxConnectionsPerIp",
            "Most connections open at once from one client address; the next is told why and closed. Default 0: no limit.",
            Count, (run, values) => run.Options.MaxConnectionsPerAddress = values[^1]),
        new ServeSetting<int>("UdpRate",
            "UDP: most datagrams per second from one source; the rest are dropped unanswered and counted. Default 0: no limit.",
            Count, (run, values) => run.Options.UdpRatePerSource = values[^1]),
        new ServeSetting<TimeSpan>("UdpLease",
            "UDP room mode: drop a member (or a source that has not confirmed its address) from which nothing arrives for this long; "
            + "shout chat and send keep theirs with an empty datagram every 5s. 0: the idle timeout instead. Default 30s.",
            Duration, (run, values) => run.Options.UdpLease = values[^1]),
        new ServeSetting<TimeSpan>("IdleTimeout",
            "Close a connection (or forget a UDP source) from which nothing arrives for this long (e.g. 30s, 5m). 0: never. Default 5m.",
            Duration, (run, values) => run.Options.IdleTimeout = values[^1]),
        new ServeSetting<TimeSpan>("WriteTimeout",
            "Close a connection whose client stops reading its replies for this long. 0: never. Default 30s.",
            Duration, (run, values) => run.Options.WriteTimeout = values[^1]),
        new ServeSetting<TimeSpan>("LineTimeout",
            "Line mode: close a connection whose line is not finished this long after its first byte. 0: never. Default 1m.",
            Duration, (run, values) => run.Options.LineTimeout = values[^1]),
        new ServeSetting<string>("Allow",
            "Only these client addresses may connect: a CIDR block (10.0.0.0/8, 2001:db8::/32) or one address. Repeatable.",
            Text, (run, values) => run.Allow.AddRange(values.OfType<string>()), repeatable: true, helpName: "cidr"),
        new ServeSetting<string>("Deny",
            "These client addresses may not connect (deny wins over allow). Repeatable.",
            Text, (run, values) => run.Deny.AddRange(values.OfType<string>()), repeatable: true, helpName: "cidr"),
        new ServeSetting<string>("AccessFile",
            "Read more rules from a file: one 'allow CIDR' or 'deny CIDR' per line, '#' comments.",
            FilePath, (run, values) => run.AccessFile = values[^1], helpName: "file"),

        // Transport tuning (docs/benchmarks.md measures each).
        new ServeSetting<StreamTransport>("Transport",
            "Transport of TCP, Unix and web connections: epoll (Shout's own epoll loops, Linux only, faster: a socket is read only "
            + "once epoll says it is readable; docs/benchmarks.md) or sockets (Kestrel's socket transport). Default epoll on Linux, sockets elsewhere.",
            TransportName, (run, values) => run.Options.Transport = values[^1]),
        new ServeSetting<bool>("InlineScheduling",
            "Answer on the socket's I/O thread instead of hopping to the thread pool (fastest; the handler never blocks). Default true.",
            Boolean, (run, values) => run.Options.Sockets.InlineScheduling = values[^1]),
        new ServeSetting<int>("IoQueues",
            $"Kestrel I/O queues (default: one per core, at most {SizeLimits.IoQueues}); 0 schedules to the thread pool.",
            text => Integer(text, 0, SizeLimits.IoQueues, "the thread pool"), (run, values) => run.Options.Sockets.IOQueueCount = values[^1]),
        new ServeSetting<int>("BlockSize",
            $"Transport buffer block in bytes, the most one read takes (0: Kestrel's 4 KiB pool; at most {SizeLimits.BlockSize}). Default 65536.",
            text => Integer(text, 0, SizeLimits.BlockSize, "Kestrel's pool"), (run, values) => run.Options.Sockets.BlockSize = values[^1]),
        new ServeSetting<bool>("WaitForData",
            "Give a connection a receive buffer only once data arrives (default true: idle connections hold none; "
            + "false saves a system call per message at one buffer block per idle connection).",
            Boolean, (run, values) => run.Options.Sockets.WaitForDataBeforeAllocatingBuffer = values[^1]),
    ];

    /// <summary>The keys shown under their own headings in help, apart from the everyday options.</summary>
    public static IReadOnlyList<string> LimitKeys { get; } =
        ["MaxConnections", "MaxConnectionsPerIp", "IdleTimeout", "WriteTimeout", "WsPing", "LineTimeout", "MaxLine", "ProxyTimeout", "TlsHandshakeTimeout", "ShutdownTimeout"];

    public static IReadOnlyList<string> TuningKeys { get; } = ["Transport", "InlineScheduling", "IoQueues", "BlockSize", "WaitForData", "ReusePort"];

    private static (int, string?) Count(string text) => Integer(text, 0, int.MaxValue);

    private static (string?, string?) Text(string text) => (text, null);

    private static (StreamTransport, string?) TransportName(string text) =>
        ShoutServerOptions.ParseTransport(text, out var error) is { } value ? (value, null) : (default, error);

    private static (string?, string?) BusAddress(string text)
    {
        try
        {
            Shout.Rooms.BusAddress.Parse(text);
            return (text, null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static (Uri?, string?) Origin(string text)
    {
        try
        {
            return (ShoutWebOptions.ParseOrigin(text), null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static (string?, string?) WebAddress(string text)
    {
        try
        {
            ShoutWebOptions.ParseAddress(text);
            return (text, null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static (string?, string?) WebHostName(string text) =>
        Uri.CheckHostName(text.Trim()) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6 ? (text.Trim(), null)
        : (null, $"'{text}' is not a host name (e.g. shout.example.org)");

    private static void AddAll<T>(ICollection<T> target, IEnumerable<T> values)
    {
        foreach (var value in values)
        {
            target.Add(value);
        }
    }

    private static (ShoutEndpoint?, string?) Endpoint(string text) =>
        ShoutEndpoint.TryParse(text, out var endpoint, out var error) ? (endpoint, null) : (null, error);

    private static (T, string?) Enum<T>(string text)
        where T : struct, System.Enum =>
        System.Enum.TryParse<T>(text, ignoreCase: true, out var value) && System.Enum.IsDefined(value)
            ? (value, null)
            : (default, $"'{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");

    // What 0 means is shown in the message wherever a count may be 0.
    private static (int, string?) Integer(string text, int min, int max, string zeroMeans = "no limit") =>
        CountParser.TryParse(text, min, max, out var value, out var error, zeroMeans) ? (value, null) : (0, error);

    private static (TimeSpan, string?) Duration(string text) =>
        DurationParser.TryParse(text, out var value, out var error) ? (value, null) : (TimeSpan.Zero, error);

    // Kestrel takes no 0 ("never") for a handshake timeout: a silent client would hold its connection for good.
    private static (TimeSpan, string?) PositiveDuration(string text)
    {
        var (value, error) = Duration(text);
        return error is null && value <= TimeSpan.Zero ? (value, $"'{text}' must be more than 0") : (value, error);
    }

    private static (bool, string?) Boolean(string text) =>
        bool.TryParse(text, out var value) ? (value, null)
        : text is "1" or "yes" or "on" ? (true, null)
        : text is "0" or "no" or "off" ? (false, null)
        : (false, $"'{text}' is not true or false");

    private static (string?, string?) FilePath(string text) =>
        text.Length > 0 ? (Path.GetFullPath(text), null) : (null, "a file name is needed");

    private static (UnixFileMode, string?) Octal(string text)
    {
        try
        {
            var mode = Convert.ToInt32(text, 8);
            if (mode is >= 0 and <= 0x1FF)
            {
                return ((UnixFileMode)mode, null);
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            // Reported below, like any other value out of range.
        }

        return (default, $"'{text}' is not an octal file mode from 000 to 777, e.g. 660");
    }

    private static (IPNetwork, string?) Network(string text) =>
        IPNetwork.TryParse(text, out var network) ? (network, null)
        : IPAddress.TryParse(text, out var address) ? (new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128), null)
        : (default, $"'{text}' is not a network; write e.g. 10.0.0.0/8, 127.0.0.1 or ::1/128");
}
