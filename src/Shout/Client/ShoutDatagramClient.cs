using System.Net;
using System.Net.Sockets;
using Shout.Endpoints;

namespace Shout.Client;

/// <summary>
/// A UDP client of a Shout server: each message is one datagram, each reply one datagram. UDP
/// loses datagrams, so <see cref="RequestAsync"/> sends again when no reply comes within
/// <see cref="ShoutClientOptions.ReplyTimeout"/>, up to <see cref="ShoutClientOptions.Retries"/> times.
/// A host name is resolved to every address; when one refuses (ICMP port unreachable) the next is
/// tried. Against a room-mode server it joins by itself (<see cref="DatagramRoomJoin"/>: it answers
/// the server's <c>/join ROOM TOKEN</c> with the datagrams the server did not take yet) and then
/// sends an empty datagram every <see cref="ShoutClientOptions.KeepAlive"/> so the server's lease
/// does not drop it. One request at a time; not thread-safe.
/// </summary>
public sealed class ShoutDatagramClient : IDisposable
{
    /// <summary>Larger than any datagram, so a reply is never cut by the receive.</summary>
    public const int MaxDatagramSize = 64 * 1024;

    private readonly IPEndPoint[] _candidates;
    private readonly ShoutClientOptions _options;
    private readonly byte[] _buffer = new byte[MaxDatagramSize];
    private readonly DatagramRoomJoin _join = new();
    private Socket _socket;
    private int _current;
    private Timer? _keepAlive;

    private ShoutDatagramClient(IPEndPoint[] candidates, ShoutClientOptions options)
    {
        _candidates = candidates;
        _options = options;
        _socket = Open(candidates[0]);
    }

    /// <summary>The address datagrams go to now.</summary>
    public EndPoint RemoteEndPoint => _candidates[_current];

    /// <summary>Resolves <paramref name="endpoint"/> (a <c>udp://</c> address) and opens a socket to its first address.</summary>
    public static async Task<ShoutDatagramClient> ConnectAsync(ShoutEndpoint endpoint, ShoutClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        var addresses = await ShoutConnection.ResolveAsync(endpoint, options.Family, cancellationToken);
        return ForCandidates([.. addresses.Select(a => new IPEndPoint(a, endpoint.Port))], options);
    }

    /// <summary>A client that sends to <paramref name="candidates"/> in order, moving on when one refuses.</summary>
    internal static ShoutDatagramClient ForCandidates(IPEndPoint[] candidates, ShoutClientOptions options) => new(candidates, options);

    /// <summary>
    /// Sends <paramref name="datagram"/> and returns the reply, sending again on each reply timeout;
    /// null when no reply came after every retry. Replies that arrive late for an earlier request are
    /// discarded first. Throws <see cref="SocketException"/> when every address refuses.
    /// </summary>
    public async Task<byte[]?> RequestAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        DiscardQueued();
        for (var attempt = 0; attempt <= _options.Retries; attempt++)
        {
            await SendAsync(datagram, cancellationToken);
            int? received;
            try
            {
                received = await ReceiveAsync(_buffer, _options.ReplyTimeout, cancellationToken);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused && _current + 1 < _candidates.Length)
            {
                // Nobody at this address (e.g. localhost's ::1 when the server listens on 127.0.0.1): try the next.
                NextCandidate();
                attempt--;
                continue;
            }

            if (received is { } count)
            {
                return _buffer.AsSpan(0, count).ToArray();
            }
        }

        return null;
    }

    /// <summary>True once the server asked this client to join a room (it is in room mode): each datagram from it is one line.</summary>
    public bool InRoom => _join.Joined;

    /// <summary>Sends one datagram.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        _join.Sent(datagram.Span);
        await _socket.SendAsync(datagram, SocketFlags.None, cancellationToken);
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/> (give it <see cref="MaxDatagramSize"/>
    /// bytes, or the rest of a longer datagram is lost); null when none came within <paramref name="timeout"/>.
    /// </summary>
    public async Task<int?> ReceiveAsync(Memory<byte> buffer, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var received = await _socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (!Joining(buffer.Span[..received]))
                {
                    return received;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private void DiscardQueued()
    {
        while (_socket.Available > 0)
        {
            var received = _socket.Receive(_buffer);
            Joining(_buffer.AsSpan(0, received));
        }
    }

    /// <summary>True when the datagram was the room join's (answered here), not something to show.</summary>
    private bool Joining(ReadOnlySpan<byte> datagram)
    {
        switch (_join.Receive(datagram, out var answer))
        {
            case DatagramRoomJoin.Step.Answer:
                _socket.Send(answer!);
                if (_join.Joined && _keepAlive is null && _options.KeepAlive > TimeSpan.Zero)
                {
                    _keepAlive = new Timer(static s => ((ShoutDatagramClient)s!).SendKeepAlive(), this, _options.KeepAlive, _options.KeepAlive);
                }

                return true;
            case DatagramRoomJoin.Step.Hide:
                return true;
            default:
                return false;
        }
    }

    /// <summary>An empty datagram: a room member's "still here", which the server does not answer.</summary>
    private void SendKeepAlive()
    {
        try
        {
            Volatile.Read(ref _socket).Send(ReadOnlySpan<byte>.Empty);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Gone or refused: the conversation's own reads report it.
        }
    }

    private void NextCandidate()
    {
        _current++;
        _socket.Dispose();
        _socket = Open(_candidates[_current]);
    }

    private static Socket Open(IPEndPoint remote)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Connected: the kernel keeps datagrams from anyone else out, and reports ICMP errors.
            socket.Connect(remote);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _keepAlive?.Dispose();
        _socket.Dispose();
    }
}
