using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Shout.Transports.Epoll;

/// <summary>
/// The few libc calls the epoll transport needs that .NET does not expose: the epoll set itself,
/// an eventfd to wake a loop from another thread, and <c>accept4</c> (which, unlike
/// <see cref="System.Net.Sockets.Socket.Accept"/> on a non-blocking listener, reports an empty queue
/// as a return value instead of an exception). Linux only.
/// </summary>
internal static partial class EpollNative
{
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;

    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;

    private const int CloExec = 0x80000;
    private const int NonBlock = 0x800;
    private const int MsgNoSignal = 0x4000;
    private const int IpProtoTcp = 6;
    private const int TcpNoDelay = 1;
    private const int ShutRdWr = 2;
    private const int FDupFdCloExec = 1030;

    public const int EAgain = 11;
    public const int EIntr = 4;

    /// <summary>
    /// struct epoll_event is packed on x86-64 (12 bytes: events, then the 8-byte data at offset 4) and
    /// naturally aligned elsewhere (16 bytes, data at offset 8); it is read and written by offset.
    /// </summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    public static int CreateEpoll() => Check(EpollCreate1(CloExec), "epoll_create1");

    public static int CreateEventFd() => Check(EventFd(0, CloExec | NonBlock), "eventfd");

    /// <summary>Adds <paramref name="fd"/> with <paramref name="events"/>; <paramref name="data"/> comes back with each event.</summary>
    public static int Add(int epoll, int fd, uint events, nint data)
    {
        Span<byte> ev = stackalloc byte[16];
        Write(ev, 0, events, data);
        return EpollCtl(epoll, EpollCtlAdd, fd, ref MemoryMarshal.GetReference(ev)) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public static void Remove(int epoll, int fd)
    {
        Span<byte> ev = stackalloc byte[16];
        ev.Clear();
        _ = EpollCtl(epoll, EpollCtlDel, fd, ref MemoryMarshal.GetReference(ev));
    }

    /// <summary>Waits for events into <paramref name="buffer"/> (<see cref="EventSize"/> each); the count, or -1 when interrupted.</summary>
    public static int Wait(int epoll, Span<byte> buffer, int timeoutMilliseconds)
    {
        var count = EpollWait(epoll, ref MemoryMarshal.GetReference(buffer), buffer.Length / EventSize, timeoutMilliseconds);
        if (count < 0 && Marshal.GetLastPInvokeError() != EIntr)
        {
            throw new IOException($"epoll_wait failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return count;
    }

    public static (uint Events, nint Data) Read(ReadOnlySpan<byte> buffer, int index)
    {
        var ev = buffer.Slice(index * EventSize, EventSize);
        return (MemoryMarshal.Read<uint>(ev), (nint)MemoryMarshal.Read<long>(ev[DataOffset..]));
    }

    /// <summary>accept4(2), non-blocking and close-on-exec: the new descriptor, or -errno.</summary>
    public static int Accept(nint listener)
    {
        var fd = Accept4((int)listener, 0, 0, CloExec | NonBlock);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Adds one to an eventfd (wakes whoever waits on it).</summary>
    /// <summary>accept4 (non-blocking, close-on-exec) that also fills <paramref name="peer"/> with the client's address and its length; -errno on failure.</summary>
    public static unsafe int Accept(nint listener, Span<byte> peer, out int peerLength)
    {
        var length = peer.Length;
        int fd;
        fixed (byte* address = peer)
        {
            fd = Accept4((int)listener, (nint)address, (nint)(&length), CloExec | NonBlock);
        }

        peerLength = fd >= 0 ? Math.Min(length, peer.Length) : 0;
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>getsockname: the socket's own address into <paramref name="address"/>; its length, or 0 when the call failed.</summary>
    public static unsafe int LocalAddress(int fd, Span<byte> address)
    {
        var length = address.Length;
        fixed (byte* bytes = address)
        {
            return GetSockName(fd, (nint)bytes, (nint)(&length)) == 0 ? Math.Min(length, address.Length) : 0;
        }
    }

    /// <summary>TCP_NODELAY on: replies go out at once, not after Nagle's wait (as Kestrel's socket transport sets it).</summary>
    public static unsafe int SetNoDelay(int fd)
    {
        var on = 1;
        return SetSockOpt(fd, IpProtoTcp, TcpNoDelay, (nint)(&on), sizeof(int)) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>shutdown(SHUT_RDWR): FIN both ways; errors (already reset or closed by the peer) are of no interest.</summary>
    public static void ShutdownBoth(SafeHandle socket)
    {
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            _ = ShutdownFd((int)socket.DangerousGetHandle(), ShutRdWr);
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>A second descriptor for the same socket (close-on-exec), or -errno.</summary>
    public static int Duplicate(SafeHandle socket)
    {
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            var fd = Fcntl((int)socket.DangerousGetHandle(), FDupFdCloExec, 0);
            return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    public static void Signal(int eventFd)
    {
        long one = 1;
        _ = WriteFd(eventFd, ref one, 8);
    }

    /// <summary>Resets an eventfd to zero.</summary>
    public static void Drain(int eventFd)
    {
        long value = 0;
        _ = ReadFd(eventFd, ref value, 8);
    }

    public static void CloseFd(int fd) => _ = Close(fd);

    /// <summary>
    /// recv(2) on a connection's socket, with nothing between: the bytes received (0 at the end of
    /// the stream), or -1 with <paramref name="error"/> set. Everything <see cref="Socket.Receive(Span{byte}, SocketFlags, out SocketError)"/>
    /// adds around the same call (checks, the handle's reference count, errno translation, two more
    /// frames) was 3-4 % of the server's CPU per message; the reference count is kept, so a socket
    /// closed by another thread is never read by descriptor number (<see cref="ObjectDisposedException"/>).
    /// </summary>
    public static unsafe int Receive(SafeHandle socket, Span<byte> buffer, out SocketError error)
    {
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            fixed (byte* bytes = buffer)
            {
                var received = Recv((int)socket.DangerousGetHandle(), bytes, buffer.Length, 0);
                error = received >= 0 ? SocketError.Success : ErrorOf(Marshal.GetLastPInvokeError());
                return (int)received;
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>send(2) on a connection's socket (no SIGPIPE), as <see cref="Receive"/>: the bytes the kernel took, or -1 with <paramref name="error"/> set.</summary>
    public static unsafe int Send(SafeHandle socket, ReadOnlySpan<byte> buffer, out SocketError error)
    {
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            fixed (byte* bytes = buffer)
            {
                var sent = SendBytes((int)socket.DangerousGetHandle(), bytes, buffer.Length, MsgNoSignal);
                error = sent >= 0 ? SocketError.Success : ErrorOf(Marshal.GetLastPInvokeError());
                return (int)sent;
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>The <see cref="SocketError"/> .NET reports for a send or receive errno (Linux numbers).</summary>
    internal static SocketError ErrorOf(int errno) => errno switch
    {
        EAgain => SocketError.WouldBlock,
        EIntr => SocketError.Interrupted,
        104 => SocketError.ConnectionReset,      // ECONNRESET
        32 => SocketError.Shutdown,              // EPIPE
        103 => SocketError.ConnectionAborted,    // ECONNABORTED
        107 => SocketError.NotConnected,         // ENOTCONN
        110 => SocketError.TimedOut,             // ETIMEDOUT
        113 => SocketError.HostUnreachable,      // EHOSTUNREACH
        101 => SocketError.NetworkUnreachable,   // ENETUNREACH
        100 => SocketError.NetworkDown,          // ENETDOWN
        105 => SocketError.NoBufferSpaceAvailable, // ENOBUFS
        12 => SocketError.NoBufferSpaceAvailable,  // ENOMEM
        9 => SocketError.OperationAborted,       // EBADF
        _ => SocketError.SocketError,
    };

    private static void Write(Span<byte> ev, int index, uint events, nint data)
    {
        var slot = ev.Slice(index * EventSize, EventSize);
        MemoryMarshal.Write(slot, in events);
        long value = data;
        MemoryMarshal.Write(slot[DataOffset..], in value);
    }

    private static int Check(int result, string call) =>
        result >= 0 ? result : throw new IOException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epfd, int op, int fd, ref byte ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epfd, ref byte events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    private static partial int Accept4(int fd, nint addr, nint addrlen, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteFd(int fd, ref long value, nint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadFd(int fd, ref long value, nint count);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint SendBytes(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    private static partial int GetSockName(int fd, nint addr, nint addrlen);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, nint value, int length);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    private static partial int ShutdownFd(int fd, int how);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
