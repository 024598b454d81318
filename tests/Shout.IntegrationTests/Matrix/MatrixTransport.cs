using System.Net;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Matrix;

/// <summary>
/// One column of the row × transport matrix (docs/reliability.md): how a server serves it and how a
/// client dials it. Every reliability row that applies to a transport runs through this one
/// description, so a rule that holds on one transport and not another shows up as a failing cell.
/// </summary>
internal sealed class MatrixTransport
{
    private MatrixTransport(string name, Action<ShoutServerOptions> serve, IPAddress loopback)
    {
        Name = name;
        Serve = serve;
        Loopback = loopback;
    }

    /// <summary>tcp4, tcp6, unix, tls, ws, wss or udp: the matrix's column name.</summary>
    public string Name { get; }

    /// <summary>Adds this transport's endpoint to the server's options.</summary>
    public Action<ShoutServerOptions> Serve { get; }

    /// <summary>The loopback address a client connects from by default (none for Unix).</summary>
    public IPAddress Loopback { get; }

    /// <summary>Unix sockets have no client address: access lists and per-address limits do not apply.</summary>
    public bool HasAddress => Name != "unix";

    public bool IsDatagram => Name == "udp";

    public bool IsWebSocket => Name is "ws" or "wss";

    public bool IsTls => Name is "tls" or "wss";

    /// <summary>The names the server may give this transport in its events and metrics.</summary>
    public IReadOnlyList<string> EventNames => Name switch
    {
        "tcp4" or "tcp6" => ["tcp"],
        "wss" => ["wss", "ws"],
        _ => [Name],
    };

    /// <summary>Client addresses a test can connect from, each a different "client" to the server.</summary>
    public IReadOnlyList<IPAddress> Sources => Loopback.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? [IPAddress.IPv6Loopback]
        : [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4")];

    /// <summary>A network covering every address this transport's clients come from (the brief's <c>--deny 127.0.0.0/8</c>).</summary>
    public string LoopbackNetwork => Loopback.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "::1/128" : "127.0.0.0/8";

    public static MatrixTransport Tcp4 { get; } = new("tcp4", o => o.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0")), IPAddress.Loopback);

    public static MatrixTransport Tcp6 { get; } = new("tcp6", o => o.Listen.Add(ShoutEndpoint.Parse("tcp://[::1]:0")), IPAddress.IPv6Loopback);

    public static MatrixTransport Unix { get; } = new("unix", o => o.Listen.Add(ShoutEndpoint.Parse($"unix://{Repo.TempDir()}/m.sock")), IPAddress.None);

    public static MatrixTransport Tls { get; } = new("tls", o => o.Listen.Add(ShoutEndpoint.Parse("tls://127.0.0.1:0")), IPAddress.Loopback);

    public static MatrixTransport Ws { get; } = new("ws", o => o.Web.Address = new Uri("http://127.0.0.1:0"), IPAddress.Loopback);

    /// <summary>The page and <c>/ws</c> over TLS, with the certificate options of <c>tls://</c>.</summary>
    public static MatrixTransport Wss { get; } = new("wss", o => o.Web.Address = new Uri("https://127.0.0.1:0"), IPAddress.Loopback);

    public static MatrixTransport Udp { get; } = new("udp", o => o.Listen.Add(ShoutEndpoint.Parse("udp://127.0.0.1:0")), IPAddress.Loopback);

    public static IReadOnlyList<MatrixTransport> All { get; } = [Tcp4, Tcp6, Unix, Tls, Ws, Wss, Udp];

    public static MatrixTransport Named(string name) => All.Single(t => t.Name == name);

    /// <summary>Starts an in-process server serving this transport (and whatever <paramref name="configure"/> adds).</summary>
    public Task<TestServer> StartAsync(Action<ShoutServerOptions>? configure = null, LogCapture? logs = null, TimeProvider? clock = null) =>
        TestServer.StartAsync(o =>
        {
            Serve(o);
            configure?.Invoke(o);
        }, logs: logs, clock: clock);

    /// <summary>Dials the server from <paramref name="from"/> (the transport's loopback when null).</summary>
    /// <exception cref="RefusedException">The server refused before the connection was usable (TLS handshake, WebSocket upgrade).</exception>
    public Task<MatrixClient> OpenAsync(TestServer server, IPAddress? from = null) => Name switch
    {
        "ws" or "wss" => WebSocketMatrixClient.ConnectAsync(server, secure: Name == "wss", from ?? Loopback),
        "udp" => Task.FromResult<MatrixClient>(DatagramMatrixClient.Connect(server.EndpointOf(ShoutTransport.Udp), from ?? Loopback)),
        _ => StreamMatrixClient.ConnectAsync(server, this, from ?? Loopback),
    };

    public override string ToString() => Name;
}

/// <summary>The server refused a client before its connection was usable: why, as the client saw it.</summary>
internal sealed class RefusedException(string message, Exception? inner = null) : Exception(message, inner);
