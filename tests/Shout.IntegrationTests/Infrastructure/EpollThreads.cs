namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// Which stream transport a spawned server runs on, seen from outside: the epoll transport's event
/// loops are threads named <c>shout-epoll-N</c> (started with its first listener), which the socket
/// transport never has.
/// </summary>
internal static class EpollThreads
{
    /// <summary>How many epoll loop threads process <paramref name="pid"/> has now.</summary>
    public static int Count(int pid)
    {
        var count = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                count += File.ReadAllText(Path.Combine(task, "comm")).StartsWith("shout-epoll-", StringComparison.Ordinal) ? 1 : 0;
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return count;
    }
}
