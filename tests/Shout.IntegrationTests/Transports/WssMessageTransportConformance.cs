using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Transports;

/// <summary><c>wss://</c>: the web endpoint over TLS (<c>--web https://…</c>), the server's certificate pinned.</summary>
public sealed class WssMessageTransportConformance : WebSocketMessageConformance
{
    internal override MatrixTransport Transport => MatrixTransport.Wss;
}
