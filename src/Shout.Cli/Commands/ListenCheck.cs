using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net;
using Shout.Endpoints;
using Shout.Hosting;

namespace Shout.Cli.Commands;

/// <summary>
/// What <c>serve</c> can tell about its addresses before binding, and how a bind failure reads:
/// one line naming the address and the cause, never the runtime's exception text (a Unix path in a
/// missing directory surfaces from the socket layer as "Cannot assign requested address").
/// </summary>
internal static class ListenCheck
{
    /// <summary>The problems found in the listen and web addresses; empty when binding may go ahead.</summary>
    public static List<string> Problems(ShoutServerOptions options)
    {
        var problems = new List<string>();
        foreach (var endpoint in options.Listen)
        {
            if (Problem(endpoint) is { } problem)
            {
                problems.Add(problem);
            }
        }

        if (options.Web.Address is { } web && IPAddress.TryParse(web.IdnHost, out var address) && !IsLocal(address))
        {
            problems.Add($"--web {web}: {address} is not an address of this machine");
        }

        return problems;
    }

    private static string? Problem(ShoutEndpoint endpoint)
    {
        switch (endpoint.Transport)
        {
            case ShoutTransport.WebSocket:
                return null; // the server refuses it itself, saying where WebSocket is served
            case ShoutTransport.Unix:
                var directory = Path.GetDirectoryName(Path.GetFullPath(endpoint.Path));
                return directory is { Length: > 0 } && !Directory.Exists(directory)
                    ? $"--listen {endpoint}: the directory {directory} does not exist"
                    : null;
            default:
                return IPAddress.TryParse(endpoint.Host, out var address) && !IsLocal(address)
                    ? $"--listen {endpoint}: {address} is not an address of this machine"
                    : null;
        }
    }

    /// <summary>True for the wildcard, loopback, or an address of one of this machine's interfaces.</summary>
    private static bool IsLocal(IPAddress address)
    {
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(address))
        {
            return true;
        }

        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Any(u => u.Address.GetAddressBytes().AsSpan().SequenceEqual(address.GetAddressBytes())); // scope ids aside
        }
        catch (NetworkInformationException)
        {
            // Cannot list the interfaces: let the bind itself decide.
            return true;
        }
    }

    /// <summary>One line for a failure to bind, naming the address when the runtime's message lets us.</summary>
    public static string DescribeBindFailure(Exception error, ShoutServerOptions options)
    {
        var socket = error as SocketException ?? error.InnerException as SocketException ?? error.InnerException?.InnerException as SocketException;
        var cause = socket?.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse => "address already in use",
            SocketError.AddressNotAvailable => "address not available on this machine",
            SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
            null => error.Message,
            _ => socket.Message,
        };
        var where = Culprit(error.Message, options);
        // Never a cause without the address: when the runtime does not say which, name every candidate.
        where ??= Everything(options);
        if (where is not null && where.StartsWith("unix://", StringComparison.Ordinal) && socket?.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AccessDenied)
        {
            cause = $"cannot create the socket file {where["unix://".Length..]} (is its directory writable?)";
        }
        return where is null ? $"cannot listen: {cause}" : $"cannot listen on {where}: {cause}";
    }

    private static string? Everything(ShoutServerOptions options)
    {
        var all = options.Listen.Select(e => e.ToString()).ToList();
        if (options.Web.Address is { } web)
        {
            all.Add(web.ToString());
        }

        return all.Count switch
        {
            0 => null,
            1 => all[0],
            _ => $"one of {string.Join(", ", all)}",
        };
    }

    // Kestrel names the address it failed on as http://HOST:PORT; find which of ours has that port.
    private static string? Culprit(string message, ShoutServerOptions options)
    {
        var candidates = options.Listen.Where(e => e.Port != 0).Select(e => (Text: e.ToString(), e.Port)).ToList();
        if (options.Web.Address is { Port: > 0 } web)
        {
            candidates.Add((web.ToString(), web.Port));
        }

        var matches = candidates.Where(c => message.Contains($":{c.Port}", StringComparison.Ordinal)).Select(c => c.Text)
            .Concat(options.Listen.Where(e => e.Transport == ShoutTransport.Unix && message.Contains(e.Path, StringComparison.Ordinal)).Select(e => e.ToString()))
            .Distinct().ToList();
        return matches.Count == 1 ? matches[0] : null;
    }
}
