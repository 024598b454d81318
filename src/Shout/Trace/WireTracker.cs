using System.Net;

namespace Shout.Trace;

/// <summary>
/// Turns captured packets into the tutorial's drawing: each TCP connection of the given server
/// ports as numbered lines (side, flags, relative numbers, states) and a summary when it ends;
/// each UDP datagram as one line. Pure and single-threaded: feed it packets in capture order.
/// Memory is bounded: at most <see cref="MaxConnections"/> connections are followed; the one
/// seen least recently is dropped to make room.
/// </summary>
internal sealed class WireTracker
{
    /// <summary>Most connections followed at once.</summary>
    public const int MaxConnections = 4096;

    private readonly HashSet<int> _serverPorts;
    private readonly Dictionary<(IPEndPoint Client, IPEndPoint Server), TcpConversation> _open = [];
    private readonly Dictionary<(IPEndPoint Client, IPEndPoint Server), int> _udpNumbers = [];

    // Recently ended connections, so that a late packet (a repeated FIN, an ACK after a reset) is
    // drawn on the connection it belongs to instead of opening a new one.
    private readonly Dictionary<(IPEndPoint Client, IPEndPoint Server), TcpConversation> _ended = [];
    private readonly Queue<(IPEndPoint Client, IPEndPoint Server)> _endedOrder = new();
    private const int EndedKept = 256;
    private int _next;

    /// <summary>Follows connections to or from <paramref name="serverPorts"/> (the server's side).</summary>
    public WireTracker(IEnumerable<int> serverPorts) => _serverPorts = [.. serverPorts];

    /// <summary>TCP connections seen and not yet ended.</summary>
    public int OpenConnections => _open.Count;

    /// <summary>
    /// The lines one packet adds: its own line, then the connection's summary if it ended it.
    /// Packets of other ports give nothing.
    /// </summary>
    public IReadOnlyList<TraceRecord> Add(TracedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        bool fromClient;
        if (_serverPorts.Contains(packet.Destination.Port))
        {
            // A packet between two server ports is read as going to the server.
            fromClient = true;
        }
        else if (_serverPorts.Contains(packet.Source.Port))
        {
            fromClient = false;
        }
        else
        {
            return [];
        }

        var key = fromClient ? (packet.Source, packet.Destination) : (packet.Destination, packet.Source);
        if (packet.Protocol == TraceProtocol.Udp)
        {
            if (!_udpNumbers.TryGetValue(key, out var number))
            {
                if (_udpNumbers.Count >= MaxConnections)
                {
                    _udpNumbers.Clear();
                }

                number = _udpNumbers[key] = ++_next;
            }

            var preview = packet.PayloadLength == 0 ? null : PayloadPreview.Text(packet.Payload.Span);
            return [new TraceDatagramLine(number, packet.Time, key.Item1.ToString(), key.Item2.ToString(), fromClient ? "client" : "server", packet.PayloadLength, preview)];
        }

        var isSyn = packet.Flags.HasFlag(TcpControlBits.Syn) && !packet.Flags.HasFlag(TcpControlBits.Ack);
        if (!isSyn && !_open.ContainsKey(key) && _ended.TryGetValue(key, out var ended))
        {
            return [ended.Add(packet, fromClient)];
        }

        if (!_open.TryGetValue(key, out var conversation) || isSyn && conversation.Ended)
        {
            if (_open.Count >= MaxConnections)
            {
                _open.Remove(_open.MinBy(c => c.Value.LastSeen).Key);
            }

            conversation = _open[key] = new TcpConversation(++_next, key.Item1.ToString(), key.Item2.ToString(), packet.Time, sawSyn: isSyn);
        }

        var line = conversation.Add(packet, fromClient);
        if (!conversation.Ended)
        {
            return [line];
        }

        _open.Remove(key);
        if (_ended.TryAdd(key, conversation))
        {
            _endedOrder.Enqueue(key);
            if (_endedOrder.Count > EndedKept)
            {
                _ended.Remove(_endedOrder.Dequeue());
            }
        }
        else
        {
            _ended[key] = conversation;
        }

        return [line, conversation.Summary()];
    }
}
