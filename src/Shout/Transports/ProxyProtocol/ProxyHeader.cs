using System.Net;

namespace Shout.Transports.ProxyProtocol;

/// <summary>What a parse of a PROXY protocol header found.</summary>
internal enum ProxyParseStatus
{
    /// <summary>Everything so far is a valid beginning; read more and parse again from the start.</summary>
    NeedMoreData,

    /// <summary>A whole valid header; <see cref="ProxyParseResult.Consumed"/> bytes are the header, the rest is the client's.</summary>
    Done,

    /// <summary>Not a valid header; close the connection.</summary>
    Invalid,
}

/// <summary>
/// A parsed PROXY header (v1 text or v2 binary). <see cref="Source"/> is the real client; null when
/// the header says to keep the connection's own addresses (v1 <c>UNKNOWN</c>, v2 <c>LOCAL</c>, an
/// unspecified or Unix family): then the proxy itself is the peer, e.g. for health checks.
/// </summary>
/// <param name="Version">1 or 2.</param>
/// <param name="Source">The client's address as the proxy saw it, or null.</param>
/// <param name="Destination">The address the client connected to on the proxy, or null.</param>
internal sealed record ProxyHeader(int Version, IPEndPoint? Source, IPEndPoint? Destination);

/// <summary>The outcome of <see cref="ProxyProtocolParser.Parse"/>.</summary>
/// <param name="Status">Done, NeedMoreData or Invalid.</param>
/// <param name="Consumed">With Done, the header's length in bytes; otherwise 0.</param>
/// <param name="Header">With Done, the header.</param>
/// <param name="Error">With Invalid, why (for logs).</param>
internal readonly record struct ProxyParseResult(ProxyParseStatus Status, long Consumed, ProxyHeader? Header, string? Error)
{
    internal static ProxyParseResult More => new(ProxyParseStatus.NeedMoreData, 0, null, null);

    internal static ProxyParseResult Fail(string error) => new(ProxyParseStatus.Invalid, 0, null, error);

    internal static ProxyParseResult Ok(long consumed, ProxyHeader header) => new(ProxyParseStatus.Done, consumed, header, null);
}
