namespace Shout.Transports.Admission;

/// <summary>
/// How long a listener waits before it looks for free descriptors again: 10 ms, doubling to 1 s, so
/// a brief peak costs little latency and a long one costs no CPU. Not thread-safe; one per listener.
/// </summary>
internal sealed class DescriptorBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(1);

    private TimeSpan _next = First;

    /// <summary>True while the listener is paused (since the first <see cref="Next"/> after the last <see cref="Reset"/>).</summary>
    public bool Paused { get; private set; }

    /// <summary>The next wait; marks the listener paused.</summary>
    public TimeSpan Next()
    {
        Paused = true;
        var wait = _next;
        _next = _next * 2 < Longest ? _next * 2 : Longest;
        return wait;
    }

    /// <summary>Room again: the next pause starts short; true when the listener was paused.</summary>
    public bool Reset()
    {
        var was = Paused;
        Paused = false;
        _next = First;
        return was;
    }
}
