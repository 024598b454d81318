namespace Shout.IntegrationTests.Transports;

/// <summary>Plain TCP over IPv6 loopback.</summary>
public sealed class TcpIPv6Conformance : StreamTransportConformance
{
    protected override string Listen => "tcp://[::1]:0";
}
