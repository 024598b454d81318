namespace Shout.Transports;

/// <summary>Which Kestrel transport carries TCP and Unix stream connections (<c>serve --transport</c>).</summary>
public enum StreamTransport
{
    /// <summary>Kestrel's socket transport (.NET's socket engine). The default off Linux, and the fallback on it.</summary>
    Sockets,

    /// <summary>
    /// Shout's own epoll event loops (Linux only; the default there): each socket is read only when epoll says it is
    /// readable, which saves the receive .NET's engine tries before every wait (docs/benchmarks.md).
    /// </summary>
    Epoll,
}
