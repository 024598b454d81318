using System.Globalization;
using System.Net;
using System.Text;

namespace Shout.Sessions;

/// <summary>
/// The one admission step of every transport: the access lists, then one global session count
/// across every listener (TCP, TLS, Unix, WebSocket, UDP sources) and an optional count per client
/// address. A refused session is recorded (metric, event, log line) here, once, and the transport is
/// told why in one line to pass on in its own way (a stream line, an HTTP status, silence for UDP).
/// An admitted session holds a <see cref="Ticket"/> whose disposal frees its slot. Thread-safe;
/// one per server. Kestrel's <c>ConnectionLimitMiddleware</c> is the model: policy on every
/// endpoint, upgraded connections counted.
/// </summary>
internal sealed class SessionAdmission(SessionRules rules, SessionLifecycle lifecycle)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _open;
    private int _connections;

    /// <summary>Sessions admitted and not yet ended, over every transport.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>
    /// Of those, the connections (not UDP sources), from admission on: a TLS connection still in its
    /// handshake or a WebSocket counts here before the transport counts it as open.
    /// </summary>
    public int OpenConnections => Volatile.Read(ref _connections);

    /// <summary>
    /// Admits a session from <paramref name="address"/> (null for a Unix peer) or refuses it:
    /// on refusal <paramref name="refusal"/> is the line to tell the client (null when denied:
    /// a denied client is told nothing) and the refusal is already recorded.
    /// </summary>
    public Ticket? TryAdmit(string id, TransportKind transport, IPAddress? address, string remote, out Refusal refusal)
    {
        var settings = rules.Current;
        address = address is null ? null : PeerAddress.Normalize(address);
        if (address is not null && !settings.Access.IsAllowed(address))
        {
            refusal = new Refusal(CloseReason.Denied, "not allowed by the access lists");
            lifecycle.Rejected(id, transport, remote, CloseReason.Denied, refusal.Message);
            return null;
        }

        var max = settings.MaxConnections;
        if (Interlocked.Increment(ref _open) > max && max > 0)
        {
            Interlocked.Decrement(ref _open);
            refusal = new Refusal(CloseReason.Limit, string.Create(CultureInfo.InvariantCulture, $"server busy (max {max} connections)"));
            lifecycle.Rejected(id, transport, remote, CloseReason.Limit, refusal.Message);
            return null;
        }

        var perAddress = settings.MaxConnectionsPerAddress;
        if (address is not null && perAddress > 0)
        {
            lock (_gate)
            {
                _perAddress.TryGetValue(address, out var count);
                if (count >= perAddress)
                {
                    Interlocked.Decrement(ref _open);
                    refusal = new Refusal(CloseReason.Limit,
                        string.Create(CultureInfo.InvariantCulture, $"too many connections from your address (max {perAddress})"));
                    lifecycle.Rejected(id, transport, remote, CloseReason.Limit, refusal.Message);
                    return null;
                }

                _perAddress[address] = count + 1;
            }

            refusal = default;
            return Issue(address, transport);
        }

        refusal = default;
        return Issue(null, transport);
    }

    private Ticket Issue(IPAddress? counted, TransportKind transport)
    {
        var connection = transport != TransportKind.Udp;
        if (connection)
        {
            Interlocked.Increment(ref _connections);
        }

        return new Ticket(this, counted, connection);
    }

    private void Leave(IPAddress? counted, bool connection)
    {
        Interlocked.Decrement(ref _open);
        if (connection)
        {
            Interlocked.Decrement(ref _connections);
        }

        if (counted is null)
        {
            return;
        }

        lock (_gate)
        {
            // Forget an address with no session so the table stays as small as the open set.
            if (_perAddress.TryGetValue(counted, out var count) && count > 1)
            {
                _perAddress[counted] = count - 1;
            }
            else
            {
                _perAddress.Remove(counted);
            }
        }
    }

    /// <summary>Why a session was refused, and the line that says so.</summary>
    /// <param name="Reason"><see cref="CloseReason.Denied"/> or <see cref="CloseReason.Limit"/>.</param>
    /// <param name="Message">What a client over a limit is told, without the <c>ERR </c> prefix.</param>
    public readonly record struct Refusal(CloseReason Reason, string Message)
    {
        /// <summary>The line a stream client is sent: <c>ERR server busy (max N connections)\n</c>; nothing when denied.</summary>
        public byte[] StreamLine() => Reason == CloseReason.Denied ? [] : Encoding.ASCII.GetBytes($"ERR {Message}\n");
    }

    /// <summary>An admitted session's slot; disposing it frees the slot (once).</summary>
    internal sealed class Ticket : IDisposable
    {
        private SessionAdmission? _owner;
        private readonly IPAddress? _counted;
        private readonly bool _connection;

        internal Ticket(SessionAdmission owner, IPAddress? counted, bool connection)
        {
            _owner = owner;
            _counted = counted;
            _connection = connection;
        }

        /// <summary>A session holds the slot: it frees it as its close is recorded (<see cref="SessionLifecycle.Close"/>).</summary>
        internal bool Held { get; private set; }

        /// <summary>Called by the session that takes the slot.</summary>
        internal void Hold() => Held = true;

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Leave(_counted, _connection);
    }
}
