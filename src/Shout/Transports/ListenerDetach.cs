using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Shout.Transports;

/// <summary>
/// Lets a listener in an SO_REUSEPORT group leave without resetting anyone. Closing a listen socket
/// resets every connection still in its accept queue, and the kernel keeps hashing new SYNs to it
/// until the close. So first a socket filter drops every SYN that reaches this socket (the client
/// retransmits it about a second later, when the socket is gone and the kernel picks another one of
/// the group); handshakes already under way still complete, because only SYNs are dropped. Then the
/// accept queue is emptied by the normal accept loop, and only then is the socket closed.
/// </summary>
internal static class ListenerDetach
{
    private const int SolSocket = 1;
    private const int SoAttachFilter = 26;
    private const int SolTcp = 6;
    private const int TcpInfo = 11;

    /// <summary>For a listening socket, TCP_INFO's <c>tcpi_unacked</c> is the accept queue's length.</summary>
    private const int QueueLengthOffset = 24;

    /// <summary>
    /// Classic BPF over the TCP header (where a socket filter on TCP starts): load the flags byte,
    /// return 0 (drop) when SYN is set, else keep the whole packet.
    /// </summary>
    private static readonly (ushort Code, byte Jt, byte Jf, uint K)[] DropSyn =
    [
        (0x30, 0, 0, 13),          // ldb [13]        BPF_LD | BPF_B | BPF_ABS
        (0x45, 0, 1, 0x02),        // jset #SYN       BPF_JMP | BPF_JSET | BPF_K
        (0x06, 0, 0, 0),           // ret #0          drop
        (0x06, 0, 0, uint.MaxValue), // ret #-1       keep
    ];

    /// <summary>Attaches the SYN-dropping filter: from now on no new connection joins this socket's queue.</summary>
    /// <returns>False (nothing changed) when the system refuses the filter.</returns>
    public static bool StopNewConnections(Socket listener)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var program = new byte[DropSyn.Length * 8];
        for (var i = 0; i < DropSyn.Length; i++)
        {
            var slot = program.AsSpan(i * 8, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(slot, DropSyn[i].Code);
            slot[2] = DropSyn[i].Jt;
            slot[3] = DropSyn[i].Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(slot[4..], DropSyn[i].K);
        }

        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the kernel copies the
        // program during the call, so it need only stay pinned for it.
        var pinned = GCHandle.Alloc(program, GCHandleType.Pinned);
        try
        {
            Span<byte> fprog = stackalloc byte[16];
            fprog.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(fprog, (ushort)DropSyn.Length);
            BinaryPrimitives.WriteInt64LittleEndian(fprog[8..], pinned.AddrOfPinnedObject().ToInt64());
            listener.SetRawSocketOption(SolSocket, SoAttachFilter, fprog);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            pinned.Free();
        }
    }

    /// <summary>Connections accepted by the kernel and not yet by the server; -1 when unknown.</summary>
    public static int QueuedConnections(Socket listener)
    {
        Span<byte> info = stackalloc byte[256];
        try
        {
            var length = listener.GetRawSocketOption(SolTcp, TcpInfo, info);
            return length >= QueueLengthOffset + 4 ? BinaryPrimitives.ReadInt32LittleEndian(info[QueueLengthOffset..]) : -1;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return -1;
        }
    }
}
