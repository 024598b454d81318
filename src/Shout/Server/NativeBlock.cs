using System.Buffers;
using System.Runtime.InteropServices;

namespace Shout.Server;

/// <summary>
/// One <see cref="BlockMemoryPool"/> block: page-aligned native memory, so the socket can write into
/// it without pinning anything on the GC heap, and so its pages can be handed back to the operating
/// system (<see cref="Release"/>) while the address range stays, ready for reuse. Disposing it (what
/// Kestrel's pipes do when they are done with it) returns it to its pool; only the pool frees it.
/// </summary>
internal sealed unsafe partial class NativeBlock : MemoryManager<byte>
{
    /// <summary>The alignment of every block: a page, so releasing its pages touches no neighbour.</summary>
    internal const int PageSize = 4096;

    private const int MadviseDontNeed = 4;

    private readonly BlockMemoryPool _pool;
    private readonly int _length;
    private readonly nuint _pages;
    private byte* _pointer;

    public NativeBlock(BlockMemoryPool pool, int length)
    {
        _pool = pool;
        _length = length;
        // Whole pages, so giving them back never touches memory outside the block.
        _pages = ((nuint)length + PageSize - 1) / PageSize * PageSize;
        _pointer = (byte*)NativeMemory.AlignedAlloc(_pages, PageSize);
    }

    /// <summary>Whether <see cref="Release"/> keeps the block (its pages dropped, its range kept); elsewhere it frees it.</summary>
    internal static bool CanDropPages => OperatingSystem.IsLinux();

    /// <summary>
    /// Gives the block's pages back to the operating system (resident memory falls at once); the next
    /// use reads zeros. Only for a block no one holds. False if the pages could not be dropped.
    /// </summary>
    internal bool Release() => CanDropPages && Madvise(_pointer, _pages, MadviseDontNeed) == 0;

    /// <summary>Frees the memory for good; only the pool calls it, for a block no one holds.</summary>
    internal void Free()
    {
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    // Native memory never moves: pinning is only handing out the address.
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => _pool.Return(this);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* address, nuint length, int advice);
}
