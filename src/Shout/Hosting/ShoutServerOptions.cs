using System.Net;
using Shout.Endpoints;
using Shout.Protocols.Framing;
using Shout.Rooms;
using Shout.Sessions;
using Shout.Transports.Tls;
using Shout.Transports;
using Shout.Web;

namespace Shout.Hosting;

/// <summary>How stream connections are framed.</summary>
public enum ShoutMode
{
    /// <summary>Every byte answered as soon as it is read (the tutorial's behaviour). The default.</summary>
    Stream,

    /// <summary>Whole lines answered; <c>quit</c> closes; over-long lines are refused.</summary>
    Line,

    /// <summary>Line framing; every line goes to every member of the sender's room (docs/rooms.md).</summary>
    Room,
}

/// <summary>
/// Settings of one Shout server. Not thread-safe; set before starting. A timeout of
/// <see cref="TimeSpan.Zero"/> or <see cref="Timeout.InfiniteTimeSpan"/> turns that timeout off;
/// a limit of 0 turns that limit off.
/// </summary>
public sealed class ShoutServerOptions
{
    /// <summary>The tutorial's address: every IPv4 interface, port 8080.</summary>
    public const string DefaultListen = "tcp://0.0.0.0:8080";

    /// <summary>The endpoints asked for with <see cref="Listen"/>, or the default one when none was.</summary>
    internal IReadOnlyList<ShoutEndpoint> ListenOrDefault() => Listen.Count > 0 ? [.. Listen] : [ShoutEndpoint.Parse(DefaultListen)];

    /// <summary>Default <see cref="MaxConnections"/>: well under the usual 20,000 to 65,536 open files of a process.</summary>
    public const int DefaultMaxConnections = 10_000;

    /// <summary>Endpoints to serve. Empty means <see cref="DefaultListen"/>.</summary>
    public IList<ShoutEndpoint> Listen { get; } = [];

    /// <summary>Framing of stream connections. Default <see cref="ShoutMode.Stream"/>.</summary>
    public ShoutMode Mode { get; set; } = ShoutMode.Stream;

    /// <summary>Line mode: most bytes per line, not counting <c>\n</c>. Default 64 KiB.</summary>
    public int MaxLineLength { get; set; } = LineFramer.DefaultMaxLineLength;

    /// <summary>Room mode: slow-member policy, queue length, the bus between instances.</summary>
    public ShoutRoomOptions Rooms { get; } = new();

    /// <summary>Socket transport settings (inline scheduling, I/O queues, buffers).</summary>
    public SocketTuning Sockets { get; } = new();

    /// <summary>The environment variable that sets <see cref="Transport"/> when it is not set in code: <c>sockets</c> or <c>epoll</c>.</summary>
    public const string TransportVariable = "SHOUT_TRANSPORT";

    private StreamTransport? _transport;

    /// <summary>
    /// The transport of TCP and Unix stream connections (and the web endpoint), descriptors passed by
    /// systemd included: what is set here, else what <see cref="TransportVariable"/> says, else
    /// <see cref="StreamTransport.Epoll"/> on Linux (measured faster, docs/benchmarks.md) and
    /// <see cref="StreamTransport.Sockets"/> elsewhere.
    /// </summary>
    public StreamTransport Transport
    {
        get => _transport ?? TransportFromEnvironment(out _) ?? (OperatingSystem.IsLinux() ? StreamTransport.Epoll : StreamTransport.Sockets);
        set => _transport = value;
    }

    /// <summary>How long a stop waits for connections to drain before aborting them. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most sessions open at once over every endpoint (a WebSocket and a UDP source count as one); the next one is told
    /// <c>ERR server busy</c> and closed. Default 10,000; 0 means no limit.</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>Most connections open at once from one client IP address. Default 0, no limit: load
    /// generators and NAT gateways put thousands of honest clients behind one address.</summary>
    public int MaxConnectionsPerAddress { get; set; }

    /// <summary>A connection from which nothing arrives for this long is closed. Default 5 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A reply that the client does not take (it stopped reading) for this long closes the
    /// connection. Default 30 s.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Line mode: a line begun but not finished within this long closes the connection
    /// (a client trickling bytes forever). Default 1 minute.</summary>
    public TimeSpan LineTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Which client addresses may connect, on every transport (TCP, TLS, WebSocket, UDP; Unix
    /// sockets are governed by file permissions). Empty means everyone.</summary>
    public AccessList Access { get; set; } = AccessList.Everyone;

    /// <summary>True when <paramref name="timeout"/> is a real timeout rather than "off".</summary>
    internal static bool IsOn(TimeSpan timeout) => SessionSettings.IsOn(timeout);

    /// <summary>
    /// UDP: most datagrams per second one source address and port may send; the rest are dropped
    /// unanswered and counted (<c>shout.udp.rate_limited</c>). Default 0, no limit.
    /// </summary>
    public int UdpRatePerSource { get; set; }

    /// <summary>
    /// UDP room mode: a member (or a source that has not confirmed its address) from which nothing
    /// arrives for this long is dropped from its room and forgotten; <c>shout chat</c> and <c>send</c>
    /// send an empty datagram every 5 s to stay. Default 30 s; zero: the idle timeout instead.
    /// </summary>
    public TimeSpan UdpLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The rules of the session core, as these options set them.</summary>
    internal SessionSettings ToSessionSettings() => new()
    {
        Access = Access,
        MaxConnections = MaxConnections,
        MaxConnectionsPerAddress = MaxConnectionsPerAddress,
        IdleTimeout = IdleTimeout,
        WriteTimeout = WriteTimeout,
        LineTimeout = Mode is ShoutMode.Line or ShoutMode.Room ? LineTimeout : TimeSpan.Zero,
        UdpRatePerSource = UdpRatePerSource,
        UdpLease = UdpLease,
    };

    /// <summary>The web endpoint (page, WebSocket, live view, health, metrics). Off until its address is set.</summary>
    public ShoutWebOptions Web { get; } = new();

    /// <summary>
    /// Expect a PROXY protocol header (v1 or v2) first on every stream connection, from a load
    /// balancer in <see cref="TrustedProxies"/>, and use the client address it carries. Default off.
    /// </summary>
    public bool ProxyProtocol { get; set; }

    /// <summary>Networks allowed to send a PROXY header; a connection from anywhere else is closed unread.</summary>
    public IList<IPNetwork> TrustedProxies { get; } = [];

    /// <summary>How long a connection may take to send its whole PROXY header. Default 5 s (at least 3 s).</summary>
    public TimeSpan ProxyHeaderTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Bind TCP listeners with SO_REUSEPORT so several processes can share a port (Linux). Default off.</summary>
    public bool ReusePort { get; set; }

    /// <summary>
    /// Serve the sockets passed by systemd socket activation (<c>LISTEN_FDS</c>) besides <see cref="Listen"/>,
    /// and send readiness, reload and stop notifications to <c>NOTIFY_SOCKET</c> when it is set.
    /// Default off (<c>shout serve</c> turns it on). With passed sockets and no <see cref="Listen"/>,
    /// only the passed sockets are served.
    /// </summary>
    public bool Systemd { get; set; }

    /// <summary>
    /// The least level of Shout's own log messages (Debug logs every connection). The CLI applies it;
    /// a reload (<see cref="ShoutServer.Reload"/>) changes <see cref="ShoutServer.LogLevel"/>. Default Information.
    /// </summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot work.</summary>
    internal void Validate()
    {
        if (ProxyProtocol && TrustedProxies.Count == 0)
        {
            throw new ArgumentException("the PROXY protocol needs at least one trusted proxy network (e.g. 10.0.0.0/8)", nameof(TrustedProxies));
        }

        if (ProxyHeaderTimeout < MinProxyHeaderTimeout)
        {
            throw new ArgumentException($"the PROXY header timeout must be at least {MinProxyHeaderTimeout.TotalSeconds:0} s: a loaded proxy or network may be that slow", nameof(ProxyHeaderTimeout));
        }

        Web.Validate();
        if (MaxLineLength < 1)
        {
            throw new ArgumentException("the line limit must be at least 1 byte", nameof(MaxLineLength));
        }

        if (_transport is null && TransportFromEnvironment(out var error) is null && error is not null)
        {
            throw new ArgumentException(error, nameof(Transport));
        }

        if (Transport == StreamTransport.Epoll && !OperatingSystem.IsLinux())
        {
            throw new ArgumentException("the epoll transport needs Linux; use the sockets transport", nameof(Transport));
        }
    }

    /// <summary>Parses a transport name (<c>sockets</c>, <c>epoll</c>, any case); null and a one-line error when it is neither.</summary>
    internal static StreamTransport? ParseTransport(string text, out string? error)
    {
        error = null;
        if (Enum.TryParse<StreamTransport>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !text.Any(char.IsDigit))
        {
            return value;
        }

        error = $"'{text}' is not a transport: use sockets or epoll";
        return null;
    }

    private static StreamTransport? TransportFromEnvironment(out string? error)
    {
        error = null;
        var text = Environment.GetEnvironmentVariable(TransportVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var value = ParseTransport(text.Trim(), out var parseError);
        error = parseError is null ? null : $"{TransportVariable}: {parseError}";
        return value;
    }

    /// <summary>The shortest PROXY header timeout accepted.</summary>
    public static readonly TimeSpan MinProxyHeaderTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Certificate and handshake settings of <c>tls://</c> endpoints.</summary>
    public ShoutTlsOptions Tls { get; } = new();

    /// <summary>
    /// Permissions of <c>unix://</c> socket files (a client needs write permission to connect).
    /// Default 0660: the owner and the owner's group.
    /// </summary>
    public UnixFileMode UnixSocketMode { get; set; } =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
}
