using System.Globalization;
using Shout.Endpoints;

namespace Shout.Load;

/// <summary>
/// The local server process behind an endpoint, found through /proc (Linux): the listening socket's
/// inode in /proc/net/{tcp,tcp6,unix}, then the process holding it. Reads its resident memory and
/// CPU time. Every method returns null when the information is not available (another host, another
/// user's process, not Linux).
/// </summary>
internal static class ServerProcess
{
    private const double ClockTicksPerSecond = 100; // USER_HZ, fixed at 100 on Linux for /proc/PID/stat

    public static int? FindListener(ShoutEndpoint endpoint)
    {
        try
        {
            var inode = endpoint.Transport == ShoutTransport.Unix ? UnixInode(endpoint.Path) : TcpListenInode(endpoint.Port);
            return inode is null ? null : ProcessHolding(inode.Value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>VmRSS of the process in bytes.</summary>
    public static long? ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>User plus system CPU time the process has used.</summary>
    public static TimeSpan? CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces; the fields after its closing ')' are fixed.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static long? TcpListenInode(int port)
    {
        var hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[3] == "0A" && f[1].EndsWith(":" + hexPort, StringComparison.Ordinal))
                {
                    return long.Parse(f[9], CultureInfo.InvariantCulture);
                }
            }
        }

        return null;
    }

    private static long? UnixInode(string path)
    {
        foreach (var line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            // Num RefCount Protocol Flags Type St Inode Path; flags 00010000 = listening
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 7 && f[7] == path && f[3] == "00010000")
            {
                return long.Parse(f[6], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static int? ProcessHolding(long inode)
    {
        var target = $"socket:[{inode}]";
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                foreach (var fd in Directory.EnumerateFiles($"{dir}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget == target)
                    {
                        return pid;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A process that exited or is not ours: keep looking.
            }
        }

        return null;
    }
}
