using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Transports;

/// <summary><c>ws://</c>: the web endpoint over plain HTTP.</summary>
public sealed class WsMessageTransportConformance : WebSocketMessageConformance
{
    internal override MatrixTransport Transport => MatrixTransport.Ws;
}
