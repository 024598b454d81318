using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Shout.Server;

/// <summary>
/// A memory pool for Kestrel's socket transport whose blocks are larger than Kestrel's own 4 KiB:
/// the transport receives into at most one block per system call, so a streaming client costs one
/// read per block. Blocks are pinned (the socket writes into them) and reused forever; the pool
/// holds at most as many as were in use at once (idle connections hold none, see
/// <see cref="SocketTuning.WaitForDataBeforeAllocatingBuffer"/>). Thread-safe; renting allocates
/// nothing once warm.
/// </summary>
internal sealed class BlockMemoryPool(int blockSize) : MemoryPool<byte>
{
    private readonly ConcurrentQueue<Block> _free = new();

    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, blockSize);
        return _free.TryDequeue(out var block) ? block : new Block(this, GC.AllocateUninitializedArray<byte>(blockSize, pinned: true));
    }

    protected override void Dispose(bool disposing)
    {
        // Blocks may still be in use by connections being torn down; the GC frees them with the pool.
    }

    private sealed class Block(BlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = array;

        public void Dispose() => pool._free.Enqueue(this);
    }
}

/// <summary>Hands Kestrel a <see cref="BlockMemoryPool"/> wherever it asks for a pool.</summary>
internal sealed class BlockMemoryPoolFactory(int blockSize) : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new BlockMemoryPool(blockSize);
}
