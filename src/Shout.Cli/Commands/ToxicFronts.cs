using System.Globalization;

namespace Shout.Cli.Commands;

/// <summary>
/// Where <c>serve --toxic</c> says which internal port serves each public one, so that
/// <c>shout states -p PUBLIC</c> also shows the server's own sockets behind the toxics (on the
/// internal port), which the user never named. One file per public TCP port and server process
/// (<c>PORT-PID</c>, holding the internal port) in a per-user directory: <c>$XDG_RUNTIME_DIR/shout</c>,
/// else <c>/tmp/shout-USER</c>, made 0700. Removed when the server stops; one left by a server
/// that crashed is ignored (its process is gone), and the internal port only adds sockets to
/// what states shows, never hides any.
/// </summary>
internal static class ToxicFronts
{
    private static string Directory =>
        Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && System.IO.Directory.Exists(runtime)
            ? Path.Combine(runtime, "shout")
            : Path.Combine(Path.GetTempPath(), $"shout-{Environment.UserName}");

    /// <summary>Says that <paramref name="internalPort"/> serves <paramref name="publicPort"/>; the file to remove at stop, or null when it could not be written.</summary>
    public static string? Register(int publicPort, int internalPort)
    {
        if (OperatingSystem.IsWindows())
        {
            return null; // states reads /proc: Linux only
        }

        try
        {
            var directory = System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var file = Path.Combine(directory.FullName, $"{publicPort.ToString(CultureInfo.InvariantCulture)}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
            File.WriteAllText(file, internalPort.ToString(CultureInfo.InvariantCulture) + "\n");
            return file;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only states' view of the internal port is lost; the server is not stopped for it.
            return null;
        }
    }

    public static void Unregister(string? file)
    {
        try
        {
            if (file is not null)
            {
                File.Delete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The internal ports of running servers behind <paramref name="publicPort"/>'s toxics.</summary>
    public static int[] Behind(int publicPort)
    {
        var ports = new List<int>();
        try
        {
            if (!System.IO.Directory.Exists(Directory))
            {
                return [];
            }

            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, $"{publicPort.ToString(CultureInfo.InvariantCulture)}-*"))
            {
                var pid = Path.GetFileName(file)[(Path.GetFileName(file).IndexOf('-', StringComparison.Ordinal) + 1)..];
                if (int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out _) && System.IO.Directory.Exists($"/proc/{pid}")
                    && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
                {
                    ports.Add(port);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return [.. ports];
    }
}
