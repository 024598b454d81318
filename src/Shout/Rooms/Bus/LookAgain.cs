using System.Threading.Channels;

namespace Shout.Rooms.Bus;

/// <summary>
/// Asks the server again for something it refused at start but may give later: JetStream's room
/// stream or presence bucket, refused while a cluster is still forming (its servers not all joined)
/// or by a server started without JetStream and restarted with it. Tries after 1 s, then waits twice
/// as long each time up to 30 s, and at once when the connection comes back (<see cref="Poke"/>).
/// </summary>
internal sealed class LookAgain(TimeProvider clock)
{
    internal static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(30);

    private readonly Channel<bool> _poked = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>The connection is back: the next try is now.</summary>
    public void Poke() => _poked.Writer.TryWrite(true);

    /// <summary>Calls <paramref name="attempt"/> until it gives something, and returns that; throws only when <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task<T> UntilAsync<T>(Func<CancellationToken, Task<T?>> attempt, CancellationToken cancellationToken)
        where T : class
    {
        var wait = FirstWait;
        while (true)
        {
            using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                await Task.WhenAny(Task.Delay(wait, clock, waiting.Token), _poked.Reader.WaitToReadAsync(waiting.Token).AsTask());
                await waiting.CancelAsync();
            }

            cancellationToken.ThrowIfCancellationRequested();
            _poked.Reader.TryRead(out _);
            if (await attempt(cancellationToken) is { } found)
            {
                return found;
            }

            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LongestWait.Ticks));
        }
    }
}
