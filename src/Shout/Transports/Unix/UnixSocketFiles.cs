using System.Net.Sockets;

namespace Shout.Transports.Unix;

/// <summary>
/// The life of a Unix socket file: claimed before binding, given its mode after, removed at a
/// clean stop. A file left by a server that crashed (SIGKILL) would make the bind fail with
/// "address in use", so before binding Shout probes it with a connect: refused means nobody
/// listens (stale) and the file is removed; accepted means another server is running there, which
/// is an error. A path that exists and is not a socket is never touched.
/// </summary>
internal static class UnixSocketFiles
{
    /// <summary>Makes <paramref name="path"/> free to bind, or throws <see cref="IOException"/> saying why it is not.</summary>
    /// <returns>True when a stale socket file was removed.</returns>
    public static async Task<bool> ClaimAsync(string path, TimeSpan probeTimeout, CancellationToken cancellationToken)
    {
        if (!Exists(path, out var isSocket))
        {
            return false;
        }

        if (!isSocket)
        {
            throw new IOException($"unix://{path}: the path exists and is not a socket; refusing to replace it");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(probeTimeout);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A listener whose backlog is full still exists: not stale.
            throw new IOException($"unix://{path} is in use by a running server (it did not answer a connect in time)");
        }

        throw new IOException($"unix://{path} is in use by a running server; stop it or choose another path");
    }

    /// <summary>Sets the socket file's permissions (clients need write permission to connect).</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Removes the socket file at a clean stop, if it is still a socket.</summary>
    public static void Remove(string path)
    {
        if (Exists(path, out var isSocket) && isSocket)
        {
            File.Delete(path);
        }
    }

    private static bool Exists(string path, out bool isSocket)
    {
        if (Directory.Exists(path))
        {
            isSocket = false;
            return true;
        }

        if (!File.Exists(path))
        {
            isSocket = false;
            return false;
        }

        isSocket = CannotOpen(path);
        return true;
    }

    // .NET has no file-type query, and a connect to a regular file is refused just like a stale
    // socket, so the type is told apart by open(2): a socket cannot be opened (ENXIO), a file can.
    private static bool CannotOpen(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
