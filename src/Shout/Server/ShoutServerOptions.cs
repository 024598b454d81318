using System.Net;
using Shout.Endpoints;
using Shout.Framing;
using Shout.Server.Tls;

namespace Shout.Server;

/// <summary>How stream connections are framed.</summary>
public enum ShoutMode
{
    /// <summary>Every byte answered as soon as it is read (the tutorial's behaviour). The default.</summary>
    Stream,

    /// <summary>Whole lines answered; <c>quit</c> closes; over-long lines are refused.</summary>
    Line,
}

/// <summary>Settings of one Shout server. Not thread-safe; set before starting.</summary>
public sealed class ShoutServerOptions
{
    /// <summary>The tutorial's address: every IPv4 interface, port 8080.</summary>
    public const string DefaultListen = "tcp://0.0.0.0:8080";

    /// <summary>Endpoints to serve. Empty means <see cref="DefaultListen"/>.</summary>
    public IList<ShoutEndpoint> Listen { get; } = [];

    /// <summary>Framing of stream connections. Default <see cref="ShoutMode.Stream"/>.</summary>
    public ShoutMode Mode { get; set; } = ShoutMode.Stream;

    /// <summary>Line mode: most bytes per line, not counting <c>\n</c>. Default 64 KiB.</summary>
    public int MaxLineLength { get; set; } = LineFramer.DefaultMaxLineLength;

    /// <summary>How long a stop waits for connections to drain before aborting them. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

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

        if (MaxLineLength < 1)
        {
            throw new ArgumentException("the line limit must be at least 1 byte", nameof(MaxLineLength));
        }
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
