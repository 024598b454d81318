using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shout.Endpoints;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Transports.Udp;

/// <summary>
/// The UDP side of the server, which Kestrel does not have: a hosted service that binds every
/// <c>udp://</c> endpoint at start (so bound ports are known when the host has started), runs one
/// <see cref="UdpResponder"/> per endpoint; the server's drain (<see cref="DrainSignal"/>) drains them, and the stop awaits it. Each endpoint comes with the
/// socket systemd passed for it, or null to bind it here.
/// </summary>
internal sealed class UdpShoutService(IReadOnlyList<(ShoutEndpoint Endpoint, System.Net.Sockets.Socket? Passed)> endpoints, SessionRules rules,
    SessionAdmission admission, SessionRunner runner, ShoutMetrics metrics, TimeProvider clock, ILogger<UdpShoutService> logger,
    IProtocolFactory? protocols = null, DrainSignal? drain = null)
    : IHostedService, IAsyncDisposable
{
    private readonly List<UdpResponder> _responders = [];

    /// <summary>The mode's message protocol: echo unless the mode registered its own (room mode: members).</summary>
    private IProtocolFactory Protocols { get; } = protocols ?? FramedProtocol.Echo;

    /// <summary>The bound endpoint of each requested one, in order; empty before start.</summary>
    public IReadOnlyList<ShoutEndpoint> Bound => [.. _responders.Select(r => r.Bound)];

    /// <summary>Binds every endpoint (before the host starts); <see cref="IOException"/> when one is taken.</summary>
    public void Bind()
    {
        if (_responders.Count > 0)
        {
            return;
        }

        // On failure the sockets bound so far are closed when the host disposes this service.
        foreach (var (endpoint, passed) in endpoints)
        {
            var settings = rules.Current;
            UdpPeers Peers(string name) => new(name, settings, admission, runner, metrics, clock, logger, leases: Protocols.Leases);
            var responder = passed is not null
                ? UdpResponder.Adopt(passed, Peers, Protocols, metrics, logger, drain)
                : UdpResponder.Bind(endpoint, ListenAddress.Resolve(endpoint), Peers, Protocols, metrics, logger, drain);
            _responders.Add(responder);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Bind();
        foreach (var responder in _responders)
        {
            responder.Start();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_responders.Select(r => r.StopAsync(cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (var responder in _responders)
        {
            await responder.DisposeAsync();
        }
    }
}
