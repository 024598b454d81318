namespace Shout.IntegrationTests.Reliability;

/// <summary>
/// A test client's loop that finds its socket always ready (a send or read that completes at once)
/// never leaves its thread-pool thread; twenty such loops kept the test process's pool from running
/// its other work (the next client's connect) until the pool added threads. After 64 KiB handled the
/// loop yields, as the server's sessions do (<c>Shout.Sessions.FairTurn</c>).
/// </summary>
internal sealed class ClientTurn
{
    private const int Budget = 64 * 1024;

    private long _spent;

    /// <summary>Records <paramref name="bytes"/>; true when the loop should <c>await Task.Yield()</c>.</summary>
    public bool Spend(long bytes)
    {
        _spent += bytes;
        if (_spent < Budget)
        {
            return false;
        }

        _spent = 0;
        return true;
    }
}
