namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// The tests that load the machine (hundreds to thousands of sockets, flooding clients) run alone,
/// after the parallel ones, so they neither slow the rest nor each other on a 2-core machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyTests
{
    public const string Name = "Heavy reliability tests";
}
