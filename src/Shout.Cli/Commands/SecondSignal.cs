using System.Runtime.InteropServices;

namespace Shout.Cli.Commands;

/// <summary>
/// The first Ctrl+C or SIGTERM starts the host's graceful drain; a second one, while the drain
/// still runs, exits at once with status 130 (the shell's code for an interrupt), abandoning replies.
/// </summary>
internal static class SecondSignal
{
    public const int ExitCode = 130;

    public static IDisposable ExitAtOnce()
    {
        var signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.Increment(ref signals) >= 2)
            {
                Console.Error.WriteLine("shout: second signal, exiting without waiting for the drain");
                Console.Error.Flush();
                Exit(ExitCode);
            }
        }

        var registrations = new Disposables(
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        return registrations;
    }

    /// <summary>Leaves without running shutdown handlers: the host's own handler waits for the drain.</summary>
    private static void Exit(int code) => Native.Exit(code);

    private sealed class Disposables(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "_exit")]
        public static extern void Exit(int status);
    }
}
