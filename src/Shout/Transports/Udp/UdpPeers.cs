using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Shout.Protocols;
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
/// only forged, is not sent the room's lines for long. Each admitted source is a <see cref="UdpPeer"/>
/// served by the mode's <see cref="IProtocol"/>; its session is opened by <see cref="SessionRunner.Open"/>
/// and ended by <see cref="SessionRunner.EndAsync"/> (a source is no task of its own). Thread-safe: the receive loop asks, a timer sweeps.
/// </summary>
internal sealed class UdpPeers : IDisposable
{
    /// <summary>Most refused sources remembered; past it a refusal is counted but not remembered.</summary>
    private const int MaxRemembered = 4096;

    private readonly string _endpoint;
    private readonly SessionSettings _settings;
    private readonly SessionAdmission _admission;
    private readonly SessionRunner _runner;
    private readonly ShoutMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Dictionary<SocketAddress, UdpPeer> _peers = [];
    private Socket? _socket;
    private IProtocolFactory? _protocols;
    private readonly Lock _gate = new();
    private readonly long _idle;
    private readonly CloseReason _expiry;
    private readonly ITimer? _sweep;
    private int _refused;
    private static long s_nextId;

    /// <summary>The sources of <paramref name="endpoint"/>, under <paramref name="settings"/>; when the protocol
    /// <paramref name="leases"/> them (room members) they expire after the lease when it is on and shorter than the idle timeout.</summary>
    public UdpPeers(string endpoint, SessionSettings settings, SessionAdmission admission, SessionRunner runner, ShoutMetrics metrics,
        TimeProvider clock, ILogger logger, bool leases = false)
    {
        _endpoint = endpoint;
        _settings = settings;
        _admission = admission;
        _runner = runner;
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

    /// <summary>Serves the sources of <paramref name="socket"/> with <paramref name="protocols"/> (before the first datagram).</summary>
    public void Attach(Socket socket, IProtocolFactory protocols)
    {
        _socket = socket;
        _protocols = protocols;
    }

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
    /// The peer a datagram from <paramref name="source"/> belongs to, admitting the source on its
    /// first datagram; null when the datagram is to be dropped unanswered (refused source, over its rate).
    /// </summary>
    public UdpPeer? Admit(SocketAddress source)
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            if (_peers.TryGetValue(source, out var peer))
            {
                peer.LastSeen = now;
                if (peer.Admitted is null)
                {
                    return null;
                }

                return WithinRate(peer, now) ? peer : null;
            }
        }

        return AdmitNew(source, now);
    }

    private UdpPeer? AdmitNew(SocketAddress source, long now)
    {
        var endPoint = (IPEndPoint)new IPEndPoint(source.Family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0).Create(source);
        var remote = PeerAddress.Describe(endPoint);
        var id = string.Create(CultureInfo.InvariantCulture, $"U{Interlocked.Increment(ref s_nextId):X8}");
        var ticket = _admission.TryAdmit(id, TransportKind.Udp, endPoint.Address, remote, out _);
        var copy = new SocketAddress(source.Family, source.Size);
        source.Buffer.Span.CopyTo(copy.Buffer.Span);
        var peer = new UdpPeer(this, _socket!, _endpoint, copy, ticket is null ? null : _runner.Open(id, TransportKind.Udp, remote, ticket), now,
            _settings.UdpRatePerSource, _metrics, _logger);
        if (peer.Admitted is not null)
        {
            peer.Protocol = _protocols!.Start(peer, "", _settings);
        }

        lock (_gate)
        {
            if (peer.Admitted is null)
            {
                if (_refused >= MaxRemembered)
                {
                    return null;
                }

                _refused++;
            }

            _peers[copy] = peer;
        }

        return peer.Admitted is not null && WithinRate(peer, now) ? peer : null;
    }

    private bool WithinRate(UdpPeer peer, long now)
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
            UdpLog.RateLimited(_logger, _endpoint, peer.Session.Remote, rate);
        }

        return false;
    }

    private void Sweep()
    {
        List<UdpPeer>? idle = null;
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            foreach (var (address, peer) in _peers)
            {
                if (now - peer.LastSeen >= _idle)
                {
                    (idle ??= []).Add(peer);
                    _peers.Remove(address);
                    _refused -= peer.Admitted is null ? 1 : 0;
                }
            }
        }

        idle?.ForEach(p => _ = EndAsync(p, _expiry));
    }

    /// <summary>
    /// Forgets <paramref name="peer"/> (if the table still has it) and ends its session once: its
    /// protocol says what it owes and the reason it closes with, and the runner records it.
    /// </summary>
    public async Task EndAsync(UdpPeer peer, CloseReason reason)
    {
        lock (_gate)
        {
            if (_peers.TryGetValue(peer.Address, out var held) && held == peer)
            {
                _peers.Remove(peer.Address);
                _refused -= peer.Admitted is null ? 1 : 0;
            }
        }

        if (!peer.TryEnd() || peer.Admitted is not { } session)
        {
            return;
        }

        await _runner.EndAsync(session, peer.Protocol, reason);
    }

    /// <summary>Ends every session (the server stops): each is recorded with <paramref name="reason"/>.</summary>
    public Task CloseAllAsync(CloseReason reason)
    {
        List<UdpPeer> all;
        lock (_gate)
        {
            all = [.. _peers.Values];
            _peers.Clear();
            _refused = 0;
        }

        return Task.WhenAll(all.Select(p => EndAsync(p, reason)));
    }

    public void Dispose()
    {
        _sweep?.Dispose();
        _ = CloseAllAsync(CloseReason.ServerDrain);
    }
}
