using System.Net;

namespace Shout.Cli.Commands;

/// <summary>
/// The line <c>shout trace</c> starts with: what it captures, in words (the port, the host it is
/// narrowed to, the interface), not the BPF filter, which <c>--verbose</c> adds.
/// </summary>
internal static class TraceStatus
{
    public static string Describe(int port, IPAddress? host, string device)
    {
        var narrowed = host is null || host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any) ? "any address" : host.ToString();
        var where = device switch
        {
            "lo" => "interface lo (loopback)",
            "any" => "every interface",
            _ => $"interface {device}",
        };
        return $"tracing TCP and UDP port {port} to and from {narrowed} on {where}";
    }
}
