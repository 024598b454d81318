using System.Runtime.InteropServices;

namespace Shout.Cli.Commands;

/// <summary>
/// The terminal's width in columns, asked of the terminal itself at every call. <c>Console.WindowWidth</c>
/// caches the size and drops the cache from the runtime's own SIGWINCH handler, which may run after
/// ours: a redraw done on a resize could then lay the prompt out at the old width while the terminal
/// had already re-wrapped it at the new one (and leave a stale row on screen). The kernel sets the new
/// size before it sends SIGWINCH, so asking it (TIOCGWINSZ) is never stale.
/// </summary>
internal static partial class TerminalWidth
{
    private const int StandardOutput = 1;

    // Linux's TIOCGWINSZ on x86-64 and arm64.
    private const nuint GetWindowSize = 0x5413;

    /// <summary>The width now; 80 when it cannot be known.</summary>
    public static int Now()
    {
        if (OperatingSystem.IsLinux())
        {
            // struct winsize { rows, columns, x pixels, y pixels }
            var size = new ushort[4];
            if (Ioctl(StandardOutput, GetWindowSize, size) == 0 && size[1] > 0)
            {
                return size[1];
            }
        }

        try
        {
            return Console.WindowWidth is var width and > 0 ? width : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = false)]
    private static partial int Ioctl(int fd, nuint request, [Out] ushort[] size);
}
