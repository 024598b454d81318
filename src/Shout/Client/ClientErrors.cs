using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.Client;

/// <summary>Turns connection failures into the one-line messages the CLI prints.</summary>
internal static class ClientErrors
{
    /// <summary>True for failures that are the network's or the server's, not a bug.</summary>
    public static bool IsConnectionFailure(Exception error) =>
        error is SocketException or IOException or TimeoutException or System.Security.Authentication.AuthenticationException;

    /// <summary>A short message naming what failed and where, without a stack trace.</summary>
    public static string Describe(Exception error, ShoutEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(endpoint);
        var socketError = error as SocketException ?? error.InnerException as SocketException;
        var what = socketError?.SocketErrorCode switch
        {
            // The runtime reports a missing socket file (ENOENT) as "address not available".
            SocketError.AddressNotAvailable when endpoint.Transport == ShoutTransport.Unix => MissingSocketFile(endpoint.Path),
            SocketError.ConnectionRefused => "connection refused",
            SocketError.ConnectionReset => "connection reset by the server",
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => "unreachable",
            SocketError.AddressNotAvailable => "address not available",
            SocketError.AccessDenied => "permission denied",
            SocketError.TimedOut => "timed out",
            null => error.Message,
            _ => socketError.Message,
        };
        // A message that already names the address (the TLS and WebSocket ones do) is not repeated.
        return what.Contains(endpoint.ToString(), StringComparison.Ordinal) ? what : $"{what} ({endpoint})";
    }

    private static string MissingSocketFile(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        return directory is { Length: > 0 } && !Directory.Exists(directory)
            ? $"no such directory {directory}"
            : "no socket file there (is the server running?)";
    }
}
