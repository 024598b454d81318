using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Shout.Endpoints;
using Shout.Sessions;

namespace Shout.Web;

/// <summary>
/// <c>/healthz</c>: healthy while the server is listening; unhealthy (HTTP 503) once it is
/// stopping, so a load balancer stops sending new clients while the old ones drain.
/// </summary>
internal sealed class ShoutHealthCheck(IHostApplicationLifetime lifetime, BoundAddresses addresses, ShoutMetrics metrics) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("stopping")
            : !lifetime.ApplicationStarted.IsCancellationRequested || addresses.Endpoints.Count == 0 ? HealthCheckResult.Unhealthy("starting")
            : HealthCheckResult.Healthy($"{metrics.ActiveConnections} connections open");
        return Task.FromResult(result);
    }
}
