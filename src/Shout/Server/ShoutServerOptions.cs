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

    /// <summary>Socket transport settings (inline scheduling, I/O queues, buffers).</summary>
    public SocketTuning Sockets { get; } = new();

    /// <summary>How long a stop waits for connections to drain before aborting them. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Certificate and handshake settings of <c>tls://</c> endpoints.</summary>
    public ShoutTlsOptions Tls { get; } = new();

    /// <summary>
    /// Permissions of <c>unix://</c> socket files (a client needs write permission to connect).
    /// Default 0660: the owner and the owner's group.
    /// </summary>
    public UnixFileMode UnixSocketMode { get; set; } =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
}
