using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Transports;

/// <summary>A Unix domain stream socket in a fresh temporary directory.</summary>
public sealed class UnixConformance : StreamTransportConformance
{
    protected override string Listen { get; } = $"unix://{Repo.TempDir()}/shout.sock";
}
