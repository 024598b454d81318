namespace Shout.IntegrationTests.Transports;

/// <summary>Plain TCP over IPv4 loopback.</summary>
public sealed class TcpIPv4Conformance : StreamTransportConformance
{
    protected override string Listen => "tcp://127.0.0.1:0";
}
