using Microsoft.Extensions.Time.Testing;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also counts how often the server asked it for the time. The
/// connection handler reads the clock once per read it processes, so a test can wait until the server
/// has seen the byte it just sent before it moves the clock — otherwise a deadline could start later
/// than the test thinks, and the test would measure the wrong thing.
/// </summary>
internal sealed class WatchedClock : TimeProvider
{
    private long _reads;

    public FakeTimeProvider Fake { get; } = new();

    public long Reads => Interlocked.Read(ref _reads);

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override long GetTimestamp()
    {
        Interlocked.Increment(ref _reads);
        return Fake.GetTimestamp();
    }

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        Fake.CreateTimer(callback, state, dueTime, period);

    public void Advance(TimeSpan by) => Fake.Advance(by);

    /// <summary>Waits until the server has read the clock since <paramref name="since"/> (a value of <see cref="Reads"/>).</summary>
    public Task WaitForServerAsync(long since) =>
        Eventually.TrueAsync(() => Reads > since, TimeSpan.FromSeconds(15), () => "the server did not process the data sent");
}
