using System.Globalization;

namespace Shout.Sessions;

/// <summary>
/// The process's open-file limit (RLIMIT_NOFILE) as a budget every listener respects. Why it matters:
/// the runtime opens a file for every assembly it loads (two descriptors each, held for the process's
/// life: ~190 descriptors at rest for <c>shout serve</c> with its web port), and it loads them lazily,
/// on the first use of a type. Once connections hold every descriptor, the next first use fails: a
/// type initializer that needs one more assembly (Kestrel's reason phrases) stays broken for the
/// process's life, and a failure inside the runtime's own exception handling aborts the process
/// ("Out of memory.", exit 134). So connections never get the last descriptors: the connection
/// limit is lowered to fit (<see cref="Clamp"/>), and every listener stops accepting while the
/// open count is near the limit (<see cref="HasRoom"/>), as nginx's <c>worker_connections</c> does.
/// Thread-safe.
/// </summary>
internal sealed class DescriptorBudget
{
    /// <summary>
    /// Descriptors left to the process itself when the connection limit is fitted: its assemblies, files,
    /// epoll and pipes (~190 at rest), the accept reserve, and the web port's pending 503 answers.
    /// </summary>
    public const int ProcessShare = 320;

    private readonly Lock _gate = new();
    private readonly Func<int> _countOpen;
    private int _counted = -1;
    private int _since;
    private bool _short;

    /// <summary>The budget of this process (Linux; elsewhere <see cref="Limit"/> is 0 and nothing is limited).</summary>
    public static DescriptorBudget Process { get; } = new(ReadLimit(), CountOpenDescriptors);

    /// <param name="limit">The soft RLIMIT_NOFILE; 0 when unknown.</param>
    /// <param name="countOpen">Counts the descriptors open now; -1 when it cannot.</param>
    public DescriptorBudget(int limit, Func<int> countOpen)
    {
        Limit = limit;
        _countOpen = countOpen;
        Reserve = Math.Clamp(limit / 16, 32, 256);
    }

    /// <summary>The soft open-file limit (the runtime raises it to the hard limit at start); 0 when unknown.</summary>
    public int Limit { get; }

    /// <summary>Descriptors never given to connections: accepting stops while fewer than this many are free.</summary>
    public int Reserve { get; }

    /// <summary>Most connections the limit leaves room for: the limit less the process's own share (at least a quarter of the limit).</summary>
    public int MaxConnections => Limit <= 0 ? int.MaxValue : Math.Max(Limit / 4, Limit - ProcessShare);

    /// <summary>
    /// A connection limit that fits: <paramref name="maxConnections"/>, or <see cref="MaxConnections"/>
    /// when it is 0 (no limit) or above that; unchanged when the limit is unknown.
    /// </summary>
    public int Clamp(int maxConnections) =>
        Limit > 0 && (maxConnections == 0 || maxConnections > MaxConnections) ? MaxConnections : maxConnections;

    /// <summary>True when <paramref name="maxConnections"/> would be lowered by <see cref="Clamp"/>.</summary>
    public bool Lowers(int maxConnections) => Clamp(maxConnections) != maxConnections;

    /// <summary>
    /// Whether one more connection may be accepted now; each true answer is counted as a descriptor
    /// taken. The open descriptors are counted (a listing of <c>/proc/self/fd</c>) first, and again only
    /// when the accepts since the last count could have reached the ceiling, so far from the limit this
    /// costs nothing; closes are noticed at the next count.
    /// </summary>
    public bool HasRoom()
    {
        if (Limit <= 0)
        {
            return true;
        }

        lock (_gate)
        {
            // Once short, wait until a few more than the reserve are free, so one close does not let one accept in and out again.
            var ceiling = Limit - Reserve - (_short ? Reserve / 2 : 0);
            if (_counted >= 0 && _counted + _since < ceiling)
            {
                _since++;
                return true;
            }

            var open = _countOpen();
            _counted = open;
            _since = 0;
            _short = open < 0 || open >= ceiling;
            if (_short)
            {
                // Not even the listing could open, or too few are free: count again next time.
                _counted = -1;
                return false;
            }

            _since = 1;
            return true;
        }
    }

    /// <summary>The descriptors open now, or -1 when they cannot be listed (listing needs one).</summary>
    internal static int CountOpenDescriptors()
    {
        try
        {
            var count = 0;
            foreach (var _ in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                count++;
            }

            return count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>The soft "Max open files" of <c>/proc/self/limits</c>; 0 when there is none (not Linux) or it is unlimited.</summary>
    internal static int ReadLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft)
                        ? (int)Math.Min(soft, int.MaxValue) : 0;
                }
            }
        }
        catch (IOException)
        {
            // No limits file: nothing to fit.
        }

        return 0;
    }
}
