using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Shout.Transports;

/// <summary>
/// One <see cref="BlockMemoryPool"/> block: a page-aligned slice of a pinned array. Pinned, because the
/// socket writes into it; an array, because Kestrel's socket sender needs arrays to send several
/// segments at once (native memory behind a <see cref="MemoryManager{T}"/> fails there); page-aligned,
/// so its pages can be handed back to the operating system (<see cref="Release"/>) while the array,
/// never moved by the GC, stays for reuse. Disposing it (what Kestrel's pipes do when they are done
/// with it) returns it to its pool.
/// </summary>
internal sealed partial class PageBlock : IMemoryOwner<byte>
{
    /// <summary>The alignment of every block: a page, so releasing its pages touches nothing else.</summary>
    internal const int PageSize = 4096;

    private const int MadviseDontNeed = 4;

    private readonly BlockMemoryPool _pool;
    private readonly nint _address;
    private readonly nuint _pages;
    private byte[]? _array;

    public unsafe PageBlock(BlockMemoryPool pool, int length)
    {
        _pool = pool;
        // One page more than asked, so a page-aligned start lies within the array's first page.
        _array = GC.AllocateUninitializedArray<byte>(length + PageSize, pinned: true);
        var start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        var offset = (int)((PageSize - (start % PageSize)) % PageSize);
        _address = start + offset;
        // Only whole pages inside the block are ever given back: never the array's header or a neighbour.
        _pages = (nuint)length / PageSize * PageSize;
        Memory = _array.AsMemory(offset, length);
    }

    /// <summary>Whether <see cref="Release"/> keeps the block (its pages dropped); elsewhere the pool drops it.</summary>
    internal static bool CanDropPages => OperatingSystem.IsLinux();

    public Memory<byte> Memory { get; }

    /// <summary>
    /// Gives the block's pages back to the operating system (resident memory falls at once); the next
    /// use reads zeros. Only for a block no one holds. False if the pages could not be dropped.
    /// </summary>
    internal unsafe bool Release() => CanDropPages && Madvise((void*)_address, _pages, MadviseDontNeed) == 0;

    /// <summary>Lets the GC have the array; only the pool calls it, for a block no one holds.</summary>
    internal void Free() => _array = null;

    public void Dispose() => _pool.Return(this);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static unsafe partial int Madvise(void* address, nuint length, int advice);
}
