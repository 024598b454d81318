namespace Shout.Endpoints;

/// <summary>
/// What the server is listening on, known only after it started (port 0 becomes a real port):
/// set once by the server when it has started, read by the live view. Thread-safe.
/// </summary>
internal sealed class BoundAddresses
{
    private volatile Snapshot _current = new([], [], null);

    /// <summary>Every endpoint, as text (tcp://…, unix://…, http://…).</summary>
    public IReadOnlyList<string> Endpoints => _current.Endpoints;

    /// <summary>The TCP ports of the server (stream endpoints and the web endpoint), for the TCP state table.</summary>
    public IReadOnlyCollection<int> TcpPorts => _current.TcpPorts;

    /// <summary>The web port (HTTP, the page, /live, /ws), one of <see cref="TcpPorts"/>; null without one.</summary>
    public int? WebPort => _current.WebPort;

    public void Set(IEnumerable<string> endpoints, IEnumerable<int> tcpPorts, int? webPort = null) =>
        _current = new Snapshot([.. endpoints], [.. tcpPorts.Concat(webPort is { } w ? [w] : []).Distinct()], webPort);

    private sealed record Snapshot(IReadOnlyList<string> Endpoints, IReadOnlyCollection<int> TcpPorts, int? WebPort);
}
