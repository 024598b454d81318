using System.Diagnostics;

namespace Shout.Toxics;

/// <summary>
/// The timeout toxic's clock for one connection: closes it <c>timeout</c> ms after the connection
/// first met the toxic, even when no byte or message moves; woken by every change of the toxics.
/// </summary>
internal static class ToxicTimeouts
{
    public static async Task WatchAsync(ToxicChain toxics, ToxicDecisions decisions, Action close, CancellationToken ended)
    {
        try
        {
            while (!ended.IsCancellationRequested)
            {
                var changed = toxics.WhenChanged;
                long? deadline = null;
                foreach (var toxic in toxics.Current)
                {
                    if (toxic.Type == "timeout" && toxic["timeout"] > 0 && decisions.Applies(toxic, out var seen))
                    {
                        var at = seen + (toxic["timeout"] * Stopwatch.Frequency / 1000);
                        deadline = deadline is { } d ? Math.Min(d, at) : at;
                    }
                }

                if (deadline is null)
                {
                    await changed.WaitAsync(ended).ConfigureAwait(false);
                    continue;
                }

                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline.Value);
                if (wait <= TimeSpan.Zero)
                {
                    close();
                    return;
                }

                await Task.WhenAny(changed, Task.Delay(wait, ended)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
