using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Shout.Rooms.Bus;

namespace Shout.Tests.Rooms.Bus;

/// <summary>
/// Asking the server again for what it refused at start (the room stream, the presence bucket):
/// after 1 s, then twice as long each time up to 30 s, at once when the connection comes back, and
/// never before its time. The clock is a fake that says when a wait was set, so no step races.
/// </summary>
public sealed class LookAgainTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task It_asks_after_1_2_4_8_16_30_and_30_seconds_never_earlier_and_returns_what_it_got()
    {
        var clock = new WaitSignallingClock();
        var attempts = new Attempts(clock, succeedAt: 7);
        var found = new LookAgain(clock).UntilAsync(attempts.TryAsync, CancellationToken.None);

        foreach (var seconds in new[] { 1, 2, 4, 8, 16, 30, 30 })
        {
            await AskedAfterAsync(clock, attempts, seconds);
        }

        Assert.Equal("found", await found.WaitAsync(Patience));
        Assert.Equal(7, attempts.Count);
    }

    [Fact]
    public async Task A_poke_asks_at_once_and_the_waits_go_on_growing_after_it()
    {
        var clock = new WaitSignallingClock();
        var attempts = new Attempts(clock, succeedAt: 4);
        var lookAgain = new LookAgain(clock);
        var found = lookAgain.UntilAsync(attempts.TryAsync, CancellationToken.None);

        await clock.NextWaitAsync();
        lookAgain.Poke();
        await attempts.NextAsync();
        Assert.Equal(TimeSpan.Zero, clock.GetUtcNow() - clock.Start);

        // The next wait is 2 s: the poke counted as a try.
        await AskedAfterAsync(clock, attempts, 2);

        // Two pokes while it waits are one try; the wait after it is 8 s.
        await clock.NextWaitAsync();
        lookAgain.Poke();
        lookAgain.Poke();
        await attempts.NextAsync();
        await AskedAfterAsync(clock, attempts, 8);
        Assert.Equal("found", await found.WaitAsync(Patience));
        Assert.Equal(4, attempts.Count);
    }

    [Fact]
    public async Task Stopping_ends_the_wait_with_a_cancellation()
    {
        var clock = new WaitSignallingClock();
        var attempts = new Attempts(clock, succeedAt: int.MaxValue);
        using var stopping = new CancellationTokenSource();
        var found = new LookAgain(clock).UntilAsync(attempts.TryAsync, stopping.Token);

        await clock.NextWaitAsync();
        await stopping.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => found.WaitAsync(Patience));
        Assert.Equal(0, attempts.Count);
    }

    /// <summary>Once the next wait is set: no try one tick before <paramref name="seconds"/> have passed, one try at them.</summary>
    private static async Task AskedAfterAsync(WaitSignallingClock clock, Attempts attempts, int seconds)
    {
        await clock.NextWaitAsync();
        clock.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromTicks(1));
        Assert.False(attempts.Pending, $"asked before {seconds} s had passed");
        clock.Advance(TimeSpan.FromTicks(1));
        await attempts.NextAsync();
    }

    /// <summary>A fake clock that signals each timer set on it (a <c>Task.Delay</c> on it sets one).</summary>
    private sealed class WaitSignallingClock : TimeProvider
    {
        private readonly FakeTimeProvider _fake = new();
        private readonly Channel<bool> _waits = Channel.CreateUnbounded<bool>();

        public DateTimeOffset Start { get; }

        public WaitSignallingClock() => Start = _fake.GetUtcNow();

        public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

        public override long GetTimestamp() => _fake.GetTimestamp();

        public override long TimestampFrequency => _fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = _fake.CreateTimer(callback, state, dueTime, period);
            _waits.Writer.TryWrite(true);
            return timer;
        }

        public void Advance(TimeSpan by) => _fake.Advance(by);

        public async Task NextWaitAsync()
        {
            using var timeout = new CancellationTokenSource(Patience);
            await _waits.Reader.ReadAsync(timeout.Token);
        }
    }

    /// <summary>The attempts made, each answered at once: nothing until the <c>succeedAt</c>-th, then "found".</summary>
    private sealed class Attempts(WaitSignallingClock clock, int succeedAt)
    {
        private readonly Channel<DateTimeOffset> _made = Channel.CreateUnbounded<DateTimeOffset>();

        public int Count { get; private set; }

        public bool Pending => _made.Reader.Count > 0;

        public Task<string?> TryAsync(CancellationToken cancellationToken)
        {
            Count++;
            _made.Writer.TryWrite(clock.GetUtcNow());
            return Task.FromResult(Count >= succeedAt ? "found" : null);
        }

        public async Task NextAsync()
        {
            using var timeout = new CancellationTokenSource(Patience);
            await _made.Reader.ReadAsync(timeout.Token);
        }
    }
}
