using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shout.Sessions;

namespace Shout.Transports.Udp;

/// <summary>
/// The UDP sources of one socket as sessions of the core: a source address and port is admitted on
/// its first datagram (access lists, the global and per-address limits, like any connection), is a
/// session until nothing has come from it for the idle timeout, and is held to a per-source rate
/// (a token bucket of <see cref="SessionSettings.UdpRatePerSource"/> datagrams per second). A refused
/// source is remembered for the same idle time, so a flood from it is one refusal, not one per
/// datagram. In room mode the lease (<see cref="SessionSettings.UdpLease"/>, shorter) takes the idle
/// timeout's place: a member must keep sending to stay, so one that stopped, or an address that was
/// only forged, is not sent the room's lines for long. Thread-safe: the receive loop asks, a timer sweeps.
/// </summary>
internal sealed class UdpPeers : IDisposable
{
    /// <summary>Most refused sources remembered; past it a refusal is counted but not remembered.</summary>
    private const int MaxRemembered = 4096;

    private readonly string _endpoint;
    private readonly SessionSettings _settings;
    private readonly SessionAdmission _admission;
    private readonly SessionLifecycle _lifecycle;
    private readonly ShoutMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Dictionary<SocketAddress, Peer> _peers = [];
    private readonly Lock _gate = new();
    private readonly long _idle;
    private readonly CloseReason _expiry;
    private readonly ITimer? _sweep;
    private int _refused;
    private static long s_nextId;

    /// <summary>The sources of <paramref name="endpoint"/>, under <paramref name="settings"/>; when the protocol
    /// <paramref name="leases"/> them (room members) they expire after the lease when it is on and shorter than the idle timeout.</summary>
    public UdpPeers(string endpoint, SessionSettings settings, SessionAdmission admission, SessionLifecycle lifecycle, ShoutMetrics metrics,
        TimeProvider clock, ILogger logger, bool leases = false)
    {
        _endpoint = endpoint;
        _settings = settings;
        _admission = admission;
        _lifecycle = lifecycle;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        var (expiry, reason) = leases && SessionSettings.IsOn(settings.UdpLease)
            && (!SessionSettings.IsOn(settings.IdleTimeout) || settings.UdpLease < settings.IdleTimeout)
                ? (settings.UdpLease, CloseReason.LeaseExpired)
                : (settings.IdleTimeout, CloseReason.IdleTimeout);
        _expiry = reason;
        if (SessionSettings.IsOn(expiry))
        {
            _idle = (long)(expiry.TotalSeconds * clock.TimestampFrequency);
            // A quarter of the idle time (at most a second) late at worst, and cheap: one pass over the table.
            var period = TimeSpan.FromTicks(Math.Clamp(expiry.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
            _sweep = clock.CreateTimer(static s => ((UdpPeers)s!).Sweep(), this, period, period);
        }
    }

    /// <summary>Called as a source's session ends (the protocol forgets the source: a room member leaves its room).</summary>
    public Action<Session>? Ending { get; set; }

    /// <summary>Sources that are sessions now (refused ones not counted).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _peers.Count - _refused;
            }
        }
    }

    /// <summary>
    /// The session a datagram from <paramref name="source"/> belongs to, admitting the source on its
    /// first datagram; null when the datagram is to be dropped unanswered (refused source, over its rate).
    /// </summary>
    public Session? Admit(SocketAddress source)
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            if (_peers.TryGetValue(source, out var peer))
            {
                peer.LastSeen = now;
                if (peer.Session is null)
                {
                    return null;
                }

                return WithinRate(peer, now) ? peer.Session : null;
            }
        }

        return AdmitNew(source, now);
    }

    private Session? AdmitNew(SocketAddress source, long now)
    {
        var endPoint = (IPEndPoint)new IPEndPoint(source.Family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0).Create(source);
        var remote = PeerAddress.Describe(endPoint);
        var id = string.Create(CultureInfo.InvariantCulture, $"U{Interlocked.Increment(ref s_nextId):X8}");
        var ticket = _admission.TryAdmit(id, TransportKind.Udp, endPoint.Address, remote, out _);
        var copy = new SocketAddress(source.Family, source.Size);
        source.Buffer.Span.CopyTo(copy.Buffer.Span);
        var peer = new Peer(ticket, ticket is null ? null : _lifecycle.Open(id, TransportKind.Udp, remote, ticket), now, _settings.UdpRatePerSource);
        lock (_gate)
        {
            if (peer.Session is null)
            {
                if (_refused >= MaxRemembered)
                {
                    return null;
                }

                _refused++;
            }

            _peers[copy] = peer;
        }

        return peer.Session is { } session && WithinRate(peer, now) ? session : null;
    }

    private bool WithinRate(Peer peer, long now)
    {
        var rate = _settings.UdpRatePerSource;
        if (rate <= 0)
        {
            return true;
        }

        // Token bucket, burst of one second's worth: refill by the time since the last datagram.
        peer.Tokens = Math.Min(rate, peer.Tokens + ((now - peer.Refilled) * (double)rate / _clock.TimestampFrequency));
        peer.Refilled = now;
        if (peer.Tokens >= 1)
        {
            peer.Tokens -= 1;
            peer.Limited = false;
            return true;
        }

        _metrics.DatagramRateLimited();
        if (!peer.Limited)
        {
            peer.Limited = true;
            UdpLog.RateLimited(_logger, _endpoint, peer.Session!.Remote, rate);
        }

        return false;
    }

    private void Sweep()
    {
        List<Peer>? idle = null;
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            foreach (var (address, peer) in _peers)
            {
                if (now - peer.LastSeen >= _idle)
                {
                    (idle ??= []).Add(peer);
                    _peers.Remove(address);
                    _refused -= peer.Session is null ? 1 : 0;
                }
            }
        }

        idle?.ForEach(p => p.End(_lifecycle, _expiry, Ending));
    }

    /// <summary>Ends every session (the server stops): each is recorded with <paramref name="reason"/>.</summary>
    public void CloseAll(CloseReason reason)
    {
        List<Peer> all;
        lock (_gate)
        {
            all = [.. _peers.Values];
            _peers.Clear();
            _refused = 0;
        }

        all.ForEach(p => p.End(_lifecycle, reason, Ending));
    }

    public void Dispose()
    {
        _sweep?.Dispose();
        CloseAll(CloseReason.ServerDrain);
    }

    private sealed class Peer(SessionAdmission.Ticket? ticket, Session? session, long now, int rate)
    {
        public Session? Session { get; } = session;

        public long LastSeen { get; set; } = now;

        public double Tokens { get; set; } = rate;

        public long Refilled { get; set; } = now;

        public bool Limited { get; set; }

        public void End(SessionLifecycle lifecycle, CloseReason reason, Action<Session>? ending)
        {
            if (Session is not null)
            {
                ending?.Invoke(Session);
                lifecycle.End(Session, new(reason));
            }

            ticket?.Dispose();
        }
    }
}
