using System.Buffers;
using Microsoft.Extensions.Time.Testing;
using Shout.Transports;

namespace Shout.Tests.Transports;

/// <summary>Row 20: the transport's block pool gives back what a burst of clients left, and only that.</summary>
public sealed class BlockMemoryPoolTests
{
    private const int Block = 64 * 1024;
    private const int Reserve = 2;
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    [Fact]
    public void Free_blocks_beyond_the_reserve_are_released_after_a_whole_period_unneeded()
    {
        var clock = new FakeTimeProvider();
        using var pool = new BlockMemoryPool(Block, clock, Period, Reserve);
        Return(Rent(pool, 20));
        Assert.Equal(20, pool.WarmCount);

        // The first period saw them all rented: all needed.
        clock.Advance(Period);
        Assert.Equal(20, pool.WarmCount);

        // The second saw none rented: all but the reserve go, and stay blocks of the pool.
        clock.Advance(Period);
        Assert.Equal(Reserve, pool.WarmCount);
        Assert.Equal(20 - Reserve, pool.ColdCount);
        Assert.Equal(20 - Reserve, pool.Released);
        Assert.Equal(20, pool.BlockCount);

        // The reserve stays however long it is quiet.
        clock.Advance(Period * 10);
        Assert.Equal(Reserve, pool.WarmCount);
    }

    [Fact]
    public void Blocks_a_steady_load_uses_are_kept_and_only_the_surplus_goes()
    {
        var clock = new FakeTimeProvider();
        using var pool = new BlockMemoryPool(Block, clock, Period, Reserve);
        Return(Rent(pool, 20));
        clock.Advance(Period);
        var released = 0L;
        for (var period = 0; period < 5; period++)
        {
            // Eight at once, several times a period: those eight are what the pool needs.
            for (var i = 0; i < 3; i++)
            {
                Return(Rent(pool, 8));
                clock.Advance(Period / 4);
            }

            clock.Advance(Period / 4);
            Assert.InRange(pool.WarmCount, 8, 8 + Reserve);
            if (period == 1)
            {
                released = pool.Released;
            }
        }

        // After the surplus went (within two periods), the eight in use every period were never released.
        Assert.Equal(released, pool.Released);
        Assert.Equal(20, pool.BlockCount);
    }

    [Fact]
    public void A_block_in_use_is_never_released_or_changed()
    {
        var clock = new FakeTimeProvider();
        using var pool = new BlockMemoryPool(Block, clock, Period, reserve: 0);
        var held = Rent(pool, 10);
        for (var i = 0; i < held.Length; i++)
        {
            held[i].Memory.Span.Fill((byte)(i + 1));
        }

        clock.Advance(Period * 10);
        Assert.Equal(0, pool.Released);
        for (var i = 0; i < held.Length; i++)
        {
            Assert.True(held[i].Memory.Span.IndexOfAnyExcept((byte)(i + 1)) < 0, $"block {i} was changed while in use");
        }

        Return(held);
        Assert.Equal(10, pool.WarmCount);
        clock.Advance(Period * 2);
        Assert.Equal(0, pool.WarmCount);
        Assert.Equal(10, pool.Released);
    }

    [Fact]
    public void A_released_block_is_rented_again_after_the_warm_ones_and_works()
    {
        var clock = new FakeTimeProvider();
        using var pool = new BlockMemoryPool(Block, clock, Period, reserve: 0);
        var first = Rent(pool, 4);
        foreach (var block in first)
        {
            block.Memory.Span.Fill(0xAB);
        }

        Return(first);
        clock.Advance(Period * 2);
        Assert.Equal(4, pool.ColdCount);

        // A warm block comes first; then the released ones, with no new allocation.
        var warm = pool.Rent();
        warm.Memory.Span.Fill(0xCD);
        warm.Dispose();
        var again = pool.Rent();
        Assert.True(again.Memory.Span.IndexOfAnyExcept((byte)0xCD) < 0, "a released block was rented before the warm one");
        var reused = Rent(pool, 4);
        Assert.Equal(5, pool.BlockCount);
        foreach (var block in reused)
        {
            Assert.Equal(Block, block.Memory.Length);
            if (PageBlock.CanDropPages)
            {
                // Its pages went back to the system: what it held is gone, it reads zeros.
                Assert.True(block.Memory.Span.IndexOfAnyExcept((byte)0) < 0, "a released block kept its pages");
            }

            block.Memory.Span.Fill(0x5A);
            Assert.True(block.Memory.Span.IndexOfAnyExcept((byte)0x5A) < 0);
        }

        again.Dispose();
        Return(reused);
    }

    [Fact]
    public void Renting_a_warm_block_allocates_nothing()
    {
        using var pool = new BlockMemoryPool(Block, new FakeTimeProvider(), Period, Reserve);
        Return(Rent(pool, 4));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            var block = pool.Rent();
            block.Memory.Span[0] = 1;
            block.Dispose();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(4, pool.BlockCount);
    }

    [Fact]
    public void Disposing_frees_the_free_blocks_and_a_block_returned_later()
    {
        var pool = new BlockMemoryPool(Block, new FakeTimeProvider(), Period, Reserve);
        var held = pool.Rent();
        Return(Rent(pool, 3));
        Assert.Equal(4, pool.BlockCount);
        pool.Dispose();
        Assert.Equal(1, pool.BlockCount);

        // A connection torn down after the pool: its block is freed as it comes back.
        held.Dispose();
        Assert.Equal(0, pool.BlockCount);
    }

    [Fact]
    public void Without_a_clock_the_pool_keeps_every_block_warm()
    {
        using var pool = new BlockMemoryPool(Block);
        Return(Rent(pool, 20));
        Assert.Equal(20, pool.WarmCount);
        Assert.Equal(0, pool.Released);
    }

    private static IMemoryOwner<byte>[] Rent(BlockMemoryPool pool, int count) => [.. Enumerable.Range(0, count).Select(_ => pool.Rent())];

    private static void Return(IMemoryOwner<byte>[] blocks)
    {
        foreach (var block in blocks)
        {
            block.Dispose();
        }
    }
}
