using System.Net;
using Shout.Endpoints;

namespace Shout.Transports;

/// <summary>Where a listener binds: the address a stream or datagram endpoint's host names.</summary>
internal static class ListenAddress
{
    /// <summary>The IP address a listen host names: an IP literal, <c>localhost</c> (loopback) or <c>*</c> (any).</summary>
    public static IPAddress Resolve(ShoutEndpoint endpoint)
    {
        if (endpoint.Host is "*")
        {
            return IPAddress.IPv6Any;
        }

        if (string.Equals(endpoint.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(endpoint.Host, out var address)
            ? address
            : throw new FormatException($"{endpoint}: listen on an IP address (0.0.0.0, [::], 127.0.0.1), localhost or *");
    }
}
