namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// The tutorial's Go programs hardcode port 8080 (server and clients), so the tests that run them
/// share this non-parallel collection and nothing else in the suite uses 8080.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Port8080
{
    public const string Name = "tutorial port 8080";
    public const int Port = 8080;
}
