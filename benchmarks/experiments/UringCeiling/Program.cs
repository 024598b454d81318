// UringCeiling: uringd (benchmarks/experiments/uringd.c) in C#, to measure what the .NET runtime can
// reach on io_uring: one thread, one ring (single issuer, deferred task work), a multishot accept, and
// per connection one recv or one send in flight; every pass of the loop submits everything prepared
// and reaps every completion in one io_uring_enter. A 4 KiB native buffer per connection (no provided
// buffers). Raw system calls through libc's syscall(), no liburing, no Socket, no async. Answers as
// upperd (benchmarks/c/upperd.c) does: every byte back, in order, ASCII a-z uppercased. x86-64 only.
// A ceiling measurement, not product code.
//
//   dotnet publish benchmarks/experiments/UringCeiling -c Release -o benchmarks/.out/uringceiling --nologo
//   benchmarks/.out/uringceiling/UringCeiling [PORT]      (default 8080, listens on 0.0.0.0)
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace UringCeiling;

// The kernel's structures (linux/io_uring.h), only the fields used here.
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct SqRingOffsets
{
    [FieldOffset(0)] public uint Head;
    [FieldOffset(4)] public uint Tail;
    [FieldOffset(8)] public uint RingMask;
    [FieldOffset(12)] public uint RingEntries;
    [FieldOffset(24)] public uint Array;
}

[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct CqRingOffsets
{
    [FieldOffset(0)] public uint Head;
    [FieldOffset(4)] public uint Tail;
    [FieldOffset(8)] public uint RingMask;
    [FieldOffset(12)] public uint RingEntries;
    [FieldOffset(20)] public uint Cqes;
}

[StructLayout(LayoutKind.Explicit, Size = 120)]
internal struct UringParams
{
    [FieldOffset(0)] public uint SqEntries;
    [FieldOffset(4)] public uint CqEntries;
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(20)] public uint Features;
    [FieldOffset(40)] public SqRingOffsets SqOff;
    [FieldOffset(80)] public CqRingOffsets CqOff;
}

[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct Sqe
{
    [FieldOffset(0)] public byte Opcode;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(16)] public ulong Addr;
    [FieldOffset(24)] public uint Len;
    [FieldOffset(28)] public uint MsgFlags;
    [FieldOffset(32)] public ulong UserData;
}

[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct Cqe
{
    [FieldOffset(0)] public ulong UserData;
    [FieldOffset(8)] public int Res;
    [FieldOffset(12)] public uint Flags;
}

internal unsafe struct Conn
{
    public int Fd;
    public int Len; // bytes of the reply in Buf
    public int Off; // of which already sent
    public byte* Buf;
}

internal static unsafe partial class Program
{
    private const uint QueueDepth = 4096, BufSize = 4096;
    private const uint SetupCqSize = 1 << 3, SetupSingleIssuer = 1 << 12, SetupDeferTaskrun = 1 << 13;
    private const uint FeatSingleMmap = 1 << 0, EnterGetEvents = 1 << 0, CqeFMore = 1 << 1;
    private const byte OpAccept = 13, OpSend = 26, OpRecv = 27;
    private const ushort AcceptMultishot = 1;
    private const uint MsgNoSignal = 0x4000;
    private const long OffSqRing = 0, OffCqRing = 0x8000000, OffSqes = 0x10000000;
    private const int ProtRw = 3, MapSharedPopulate = 0x01 | 0x8000;
    private const int EINTR = 4, EAGAIN = 11, EBUSY = 16;
    // user_data: connection slot << 2 | kind.
    private const ulong KindRecv = 0, KindSend = 1, KindAccept = 2;

    private static int ringFd, listenFd;
    private static uint* sqHead, sqTail, cqHead, cqTail;
    private static uint sqMask, sqEntries, cqMask, sqTailLocal;
    private static Sqe* sqes;
    private static Cqe* cqes;
    private static Conn[] conns = new Conn[1024];
    private static int[] freeSlots = new int[1024];
    private static int freeCount, slotsUsed;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);
    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);
    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);
    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, int* value, uint length);
    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, byte* addr, uint length);
    [LibraryImport("libc", EntryPoint = "listen", SetLastError = true)]
    private static partial int Listen(int fd, int backlog);
    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    private static int Fail(string what)
    {
        Console.Error.WriteLine($"UringCeiling: {what}: errno {Marshal.GetLastPInvokeError()}");
        return 1;
    }

    private static int Main(string[] args)
    {
        var port = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 8080;
        int one = 1;
        listenFd = Socket(2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
        _ = SetSockOpt(listenFd, 1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, &one, 4);
        var sa = stackalloc byte[16]; // sockaddr_in: family, port (big-endian), 0.0.0.0, zero padding
        new Span<byte>(sa, 16).Clear();
        sa[0] = 2;
        sa[2] = (byte)(port >> 8);
        sa[3] = (byte)port;
        if (listenFd < 0 || Bind(listenFd, sa, 16) < 0 || Listen(listenFd, 4096) < 0) return Fail("listen");

        UringParams p = default;
        p.Flags = SetupSingleIssuer | SetupDeferTaskrun | SetupCqSize;
        p.CqEntries = QueueDepth * 4;
        ringFd = (int)Syscall(425 /* io_uring_setup */, QueueDepth, (long)&p, 0, 0, 0, 0);
        if (ringFd < 0) return Fail("io_uring_setup");
        var sqSize = p.SqOff.Array + p.SqEntries * 4;
        var cqSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(Cqe);
        var single = (p.Features & FeatSingleMmap) != 0;
        if (single) sqSize = cqSize = Math.Max(sqSize, cqSize);
        var sq = (byte*)Mmap(0, sqSize, ProtRw, MapSharedPopulate, ringFd, OffSqRing);
        var cq = single ? sq : (byte*)Mmap(0, cqSize, ProtRw, MapSharedPopulate, ringFd, OffCqRing);
        sqes = (Sqe*)Mmap(0, p.SqEntries * (uint)sizeof(Sqe), ProtRw, MapSharedPopulate, ringFd, OffSqes);
        if (sq == (byte*)-1 || cq == (byte*)-1 || sqes == (Sqe*)-1) return Fail("mmap");
        sqHead = (uint*)(sq + p.SqOff.Head);
        sqTail = (uint*)(sq + p.SqOff.Tail);
        sqMask = *(uint*)(sq + p.SqOff.RingMask);
        sqEntries = *(uint*)(sq + p.SqOff.RingEntries);
        cqHead = (uint*)(cq + p.CqOff.Head);
        cqTail = (uint*)(cq + p.CqOff.Tail);
        cqMask = *(uint*)(cq + p.CqOff.RingMask);
        cqes = (Cqe*)(cq + p.CqOff.Cqes);
        var sqArray = (uint*)(sq + p.SqOff.Array); // the identity map, written once: SQE i is slot i
        for (uint i = 0; i < p.SqEntries; i++) sqArray[i] = i;
        sqTailLocal = *sqTail;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"UringCeiling: 0.0.0.0:{port}, sq {p.SqEntries} cq {p.CqEntries}, flags 0x{p.Flags:x}, features 0x{p.Features:x}"));

        PrepAccept();
        for (;;)
        {
            var r = Enter(EnterGetEvents, 1);
            if (r < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR && errno != EAGAIN && errno != EBUSY) return Fail("io_uring_enter");
            }
            var head = *cqHead;
            var tail = Volatile.Read(ref *cqTail);
            for (; head != tail; head++)
            {
                ref var e = ref cqes[head & cqMask];
                var ud = e.UserData;
                var res = e.Res;
                var kind = ud & 3;
                var slot = (int)(ud >> 2);
                if (kind == KindAccept)
                {
                    if (res >= 0) Open(res);
                    if ((e.Flags & CqeFMore) == 0) PrepAccept();
                }
                else if (kind == KindSend)
                {
                    ref var c = ref conns[slot];
                    if (res < 0) CloseConn(slot);
                    else if ((c.Off += res) < c.Len) PrepSend(slot); // a short send: the rest
                    else PrepRecv(slot);
                }
                else
                {
                    if (res <= 0) { CloseConn(slot); continue; } // end of input or an error
                    ref var c = ref conns[slot];
                    Upper(c.Buf, res);
                    c.Len = res;
                    c.Off = 0;
                    PrepSend(slot);
                }
            }
            Volatile.Write(ref *cqHead, head);
        }
    }

    // Publishes the prepared SQEs and submits them; waits for minComplete completions when asked to.
    private static long Enter(uint flags, uint minComplete)
    {
        Volatile.Write(ref *sqTail, sqTailLocal);
        var toSubmit = sqTailLocal - Volatile.Read(ref *sqHead);
        return Syscall(426 /* io_uring_enter */, ringFd, toSubmit, minComplete, flags, 0, 0);
    }

    private static Sqe* GetSqe()
    {
        if (sqTailLocal - Volatile.Read(ref *sqHead) >= sqEntries) Enter(0, 0); // full: submit what is there
        var s = &sqes[sqTailLocal & sqMask];
        *s = default;
        sqTailLocal++;
        return s;
    }

    private static void PrepAccept()
    {
        var s = GetSqe();
        s->Opcode = OpAccept;
        s->Fd = listenFd;
        s->IoPrio = AcceptMultishot;
        s->UserData = KindAccept;
    }

    private static void PrepRecv(int slot)
    {
        var s = GetSqe();
        s->Opcode = OpRecv;
        s->Fd = conns[slot].Fd;
        s->Addr = (ulong)conns[slot].Buf;
        s->Len = BufSize;
        s->UserData = (ulong)slot << 2 | KindRecv;
    }

    private static void PrepSend(int slot)
    {
        ref var c = ref conns[slot];
        var s = GetSqe();
        s->Opcode = OpSend;
        s->Fd = c.Fd;
        s->Addr = (ulong)(c.Buf + c.Off);
        s->Len = (uint)(c.Len - c.Off);
        s->MsgFlags = MsgNoSignal;
        s->UserData = (ulong)slot << 2 | KindSend;
    }

    private static void Open(int fd)
    {
        int one = 1;
        _ = SetSockOpt(fd, 6 /* IPPROTO_TCP */, 1 /* TCP_NODELAY */, &one, 4);
        int slot;
        if (freeCount > 0) slot = freeSlots[--freeCount];
        else
        {
            if (slotsUsed == conns.Length)
            {
                Array.Resize(ref conns, conns.Length * 2);
                Array.Resize(ref freeSlots, conns.Length);
            }
            slot = slotsUsed++;
            conns[slot].Buf = (byte*)NativeMemory.AlignedAlloc(BufSize, 4096); // kept for the slot's next user
        }
        conns[slot].Fd = fd;
        PrepRecv(slot);
    }

    // Nothing of this connection is in flight: it had one operation, and that one just completed.
    private static void CloseConn(int slot)
    {
        _ = Close(conns[slot].Fd);
        conns[slot].Fd = -1;
        freeSlots[freeCount++] = slot;
    }

    // ASCII a-z to A-Z in place; every other byte unchanged.
    private static void Upper(byte* p, int n)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create((byte)'a');
            var letters = Vector256.Create((byte)26);
            var caseBit = Vector256.Create((byte)0x20);
            for (; i + 32 <= n; i += 32)
            {
                var v = Vector256.Load(p + i);
                var isLower = Vector256.LessThan(v - a, letters); // unsigned: bytes below 'a' wrap high
                (v - (isLower & caseBit)).Store(p + i);
            }
        }
        for (; i < n; i++)
            if ((byte)(p[i] - 'a') < 26) p[i] -= 32;
    }
}
