using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;

namespace Shout.Transports.Epoll;

/// <summary>
/// The connection's endpoints without a <see cref="Socket"/>: the client's IP address stays the bytes
/// accept gave (<see cref="SockAddr"/>) and becomes an <see cref="IPEndPoint"/> when asked; the local
/// one is the listener's shared object. A <see cref="Socket"/> is made only when a layer asks for
/// <see cref="IConnectionSocketFeature"/> (the graceful close's TCP_INFO and half-close), over a
/// second descriptor of the same socket, and closed with the connection.
/// </summary>
internal sealed partial class EpollConnection
{
    private SockAddr _peer;
    private byte _peerLength;
    private EndPoint? _remoteEndPoint; // set by a layer (PROXY protocol), or a non-IP peer
    private EndPoint? _localEndPoint;

    public override EndPoint? LocalEndPoint
    {
        get => _localEndPoint;
        set => _localEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _remoteEndPoint ?? (_peerLength == 0 ? null : SockAddr.ToEndPoint(((ReadOnlySpan<byte>)_peer)[.._peerLength]));
        set
        {
            _remoteEndPoint = value;
            _peerLength = 0;
        }
    }

    Socket IConnectionSocketFeature.Socket => FeatureSocket()!;

    private void SetPeer(ReadOnlySpan<byte> peer)
    {
        if (SockAddr.IsIP(peer))
        {
            peer.CopyTo(_peer);
            _peerLength = (byte)peer.Length;
        }
        else
        {
            _remoteEndPoint = SockAddr.ToEndPoint(peer);
        }
    }

    /// <summary>
    /// A <see cref="Socket"/> over a duplicate of the descriptor, made on first use and disposed by
    /// <see cref="Shutdown"/>; null once the socket is closed (the graceful close then has nothing to do).
    /// </summary>
    private Socket? FeatureSocket()
    {
        lock (_handle)
        {
            if (_featureSocket is not null || _socketDisposed)
            {
                return _featureSocket;
            }

            var fd = EpollNative.Duplicate(_handle);
            if (fd < 0)
            {
                return null;
            }

            var handle = new SafeSocketHandle(fd, ownsHandle: true);
            try
            {
                // A Socket made from a descriptor assumes blocking mode; the file (shared with the
                // connection's descriptor) is non-blocking, and must stay so for the loop's receives.
                _featureSocket = new Socket(handle) { Blocking = false };
            }
            catch (SocketException)
            {
                // Reset meanwhile: nothing to close gracefully.
                handle.Dispose();
            }

            return _featureSocket;
        }
    }
}
