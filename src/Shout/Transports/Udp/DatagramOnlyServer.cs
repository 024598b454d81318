using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Shout.Transports.Udp;

/// <summary>
/// Stands in for Kestrel when every endpoint is UDP. Kestrel with no endpoint configured binds
/// <c>http://localhost:5000</c> by default, which a UDP-only server must not do; this server
/// listens on nothing and leaves the UDP hosted service to do the work.
/// </summary>
internal sealed class DatagramOnlyServer : IServer
{
    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }
}
