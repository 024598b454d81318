using System.Runtime.InteropServices;

namespace Shout.Transports.Epoll;

/// <summary>
/// An accepted connection's descriptor, owned: closed once, when the last system call using it has
/// returned (SafeHandle's reference count), so a late receive or send never reaches another
/// connection that was given the same number. This is all the epoll transport keeps of a socket:
/// a <see cref="System.Net.Sockets.Socket"/> with its SafeSocketHandle and SocketAsyncContext was
/// ~330 bytes per idle connection, this is 32.
/// </summary>
internal sealed class SocketFd : SafeHandle
{
    public SocketFd(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    protected override bool ReleaseHandle()
    {
        EpollNative.CloseFd((int)handle);
        return true;
    }
}
