using System.Diagnostics;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>send</c>'s two clocks, as nc has them: <c>-w</c> gives up when nothing has moved either way for
/// that long (an error: the server is stuck), <c>-q</c> stops reading that long after the input ended
/// (success: the user said how long replies may trail). A read is never cancelled (an SslStream
/// whose read was cancelled cannot be read again); when a clock runs out the pending read is abandoned
/// with the connection.
/// </summary>
internal sealed class ReplyDeadlines(TimeSpan? wait, TimeSpan? quitAfter)
{
    /// <summary>How long a partial line waits for the rest before it is shown anyway.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    private long _lastActivity = Stopwatch.GetTimestamp();
    private long _inputEnded = -1;

    public TimeSpan? Wait => wait;

    /// <summary>Data moved (sent or received): the idle clock starts again.</summary>
    public void Touch() => Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());

    /// <summary>The input ended (stdin EOF, or the message was sent): the <c>-q</c> clock starts.</summary>
    public void InputEnded() => Interlocked.CompareExchange(ref _inputEnded, Stopwatch.GetTimestamp(), -1);

    /// <summary>
    /// The next bytes from <paramref name="stream"/>; 0 at its end or when <c>-q</c> ran out.
    /// Throws <see cref="IdleTimeoutException"/> when <c>-w</c> ran out.
    /// </summary>
    public async Task<int> ReadAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken, Func<ValueTask>? onPause = null)
    {
        var read = stream.ReadAsync(buffer, cancellationToken).AsTask();

        // A reply without its newline yet is shown once the server pauses (it may never send one).
        if (onPause is not null && await Task.WhenAny(read, Task.Delay(Pause, cancellationToken)) != read)
        {
            await onPause();
        }

        return await NextAsync(read, 0, cancellationToken);
    }

    /// <summary>
    /// What <paramref name="pending"/> (the next read of any transport: bytes, a WebSocket message)
    /// gives, or <paramref name="quit"/> when <c>-q</c> ran out first. Throws
    /// <see cref="IdleTimeoutException"/> when <c>-w</c> ran out first. One place for both clocks,
    /// so every transport keeps them alike.
    /// </summary>
    public async Task<T> NextAsync<T>(Task<T> pending, T quit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            TimeSpan? left = null;
            if (wait is { } w)
            {
                left = w - Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastActivity), now);
            }

            var ended = Interlocked.Read(ref _inputEnded);
            var quitting = quitAfter is { } q && ended >= 0;
            if (quitting)
            {
                var quitLeft = quitAfter!.Value - Stopwatch.GetElapsedTime(ended, now);
                left = left is { } l && l < quitLeft ? l : quitLeft;
            }

            if (left is null)
            {
                return await Finish(pending);
            }

            if (left > TimeSpan.Zero && await Task.WhenAny(pending, Task.Delay(left.Value, cancellationToken)) == pending)
            {
                return await Finish(pending);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (quitting && Stopwatch.GetElapsedTime(ended) >= quitAfter!.Value)
            {
                Abandon(pending);
                return quit;
            }

            if (wait is { } idle && Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastActivity)) >= idle)
            {
                Abandon(pending);
                throw new IdleTimeoutException(idle);
            }
        }
    }

    private async Task<T> Finish<T>(Task<T> pending)
    {
        var value = await pending;
        Touch();
        return value;
    }

    /// <summary>The read dies with the connection; its failure is expected, not unobserved.</summary>
    private static void Abandon(Task pending) =>
        _ = pending.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}

/// <summary><c>-w</c> ran out: nothing was sent or received for <see cref="Idle"/>.</summary>
internal sealed class IdleTimeoutException(TimeSpan idle) : Exception($"idle for {idle}")
{
    public TimeSpan Idle => idle;
}
