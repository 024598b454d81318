using System.Net.Sockets;

namespace Shout.Client;

/// <summary>How a client dials: timeouts, TLS verification, UDP retries, WebSocket message type. Immutable once built; thread-safe to share.</summary>
public sealed record ShoutClientOptions
{
    /// <summary>Give up a TCP/Unix connect after this long, per address tried. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Dial only addresses of this family (<see cref="AddressFamily.InterNetwork"/> or
    /// <see cref="AddressFamily.InterNetworkV6"/>), as nc's <c>-4</c>/<c>-6</c>: a host name's other
    /// addresses are skipped, an IP literal of the other family is refused. Null (default): every address, in the resolver's order.
    /// </summary>
    public AddressFamily? Family { get; init; }

    /// <summary>Give up a TLS handshake after this long. Default 10 s.</summary>
    public TimeSpan TlsHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Accept any server certificate (no chain or name check): for a self-signed server on a
    /// trusted network only. Default false: the certificate must be valid for the host name.
    /// </summary>
    public bool Insecure { get; init; }

    /// <summary>
    /// Accept exactly the certificate with this SHA-256 fingerprint (the one <c>shout serve</c> prints),
    /// whatever its chain or names. Null: normal verification.
    /// </summary>
    public CertificatePin? Pin { get; init; }

    /// <summary>
    /// WebSocket: send binary messages instead of text ones. Default false (text, which must be
    /// valid UTF-8; the server answers a message in the type it came in).
    /// </summary>
    public bool BinaryMessages { get; init; }

    /// <summary>WebSocket: the largest reply message a client joins from its fragments. Default 16 MiB.</summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>UDP: how long to wait for each reply before sending again. Default 1 s.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>UDP: how many times to send a datagram again when no reply comes. Default 2.</summary>
    public int Retries { get; init; } = 2;

    /// <summary>
    /// UDP room mode: once the client has joined a room, it sends an empty datagram this often so the
    /// server's lease (<c>serve --udp-lease</c>, default 30 s) keeps it a member. Default 5 s; zero: never.
    /// </summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(5);
}
