using System.Net;

namespace Shout.Transports.ProxyProtocol;

/// <summary>
/// Set on a connection that arrived through a load balancer speaking the PROXY protocol. The
/// connection's <c>RemoteEndPoint</c> is already the real client; this keeps the proxy's own address.
/// </summary>
internal interface IProxyProtocolFeature
{
    /// <summary>The parsed header.</summary>
    ProxyHeader Header { get; }

    /// <summary>The load balancer's address: the TCP peer before the header replaced it.</summary>
    EndPoint? ProxyEndPoint { get; }
}

internal sealed record ProxyProtocolFeature(ProxyHeader Header, EndPoint? ProxyEndPoint) : IProxyProtocolFeature;
