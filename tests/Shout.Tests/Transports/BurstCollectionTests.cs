using Microsoft.Extensions.Time.Testing;
using Shout.Transports;

namespace Shout.Tests.Transports;

/// <summary>Row 20: one collection after a crowd's buffers were given back, and not more often than the period.</summary>
public sealed class BurstCollectionTests
{
    private const long Threshold = 8L * 1024 * 1024;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public void Only_a_large_release_collects_and_at_most_once_per_interval()
    {
        var clock = new FakeTimeProvider();
        var collection = new BurstCollection(Threshold, Interval, clock);
        collection.Released(Threshold - 1);
        Assert.Equal(0, collection.Collections);

        collection.Released(Threshold);
        Assert.Equal(1, collection.Collections);

        clock.Advance(Interval - TimeSpan.FromTicks(1));
        collection.Released(Threshold * 4);
        Assert.Equal(1, collection.Collections);

        clock.Advance(TimeSpan.FromTicks(1));
        collection.Released(Threshold);
        Assert.Equal(2, collection.Collections);
    }

    [Fact]
    public void The_pool_reports_what_each_trim_gave_back()
    {
        var clock = new FakeTimeProvider();
        var reported = new List<long>();
        using var pool = new BlockMemoryPool(64 * 1024, clock, Interval, reserve: 1, onReleased: reported.Add);
        var blocks = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToArray();
        foreach (var block in blocks)
        {
            block.Dispose();
        }

        clock.Advance(Interval * 4);
        Assert.Equal([4L * 64 * 1024], reported);
    }
}
