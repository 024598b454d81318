namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// Polls a condition that becomes true through another party's asynchronous work (a server
/// counting a closed connection), with a deadline. The poll interval only bounds latency: the
/// test never relies on it to order events.
/// </summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"not true within {timeout.TotalSeconds:0.#} s: {describe()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>As above, for a condition that must itself wait (an HTTP scrape).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"not true within {timeout.TotalSeconds:0.#} s: {describe()}");
            }

            await Task.Delay(20);
        }
    }
}
