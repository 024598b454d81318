namespace Shout.Toxics;

/// <summary>
/// The proxy's dice (toxicity, jitter, slice sizes): seeded for a test that must see the same
/// choices every run, else random. Shared by every connection, so calls are serialized.
/// </summary>
internal sealed class ToxicRandom(int? seed)
{
    private readonly Random _random = seed is { } s ? new Random(s) : new Random();
    private readonly Lock _gate = new();

    /// <summary>True for a share <paramref name="toxicity"/> of calls; 1 always, 0 never (no dice thrown).</summary>
    public bool Hit(double toxicity)
    {
        if (toxicity >= 1)
        {
            return true;
        }

        if (toxicity <= 0)
        {
            return false;
        }

        lock (_gate)
        {
            return _random.NextDouble() < toxicity;
        }
    }

    /// <summary>A whole number from -<paramref name="spread"/> to +<paramref name="spread"/>.</summary>
    public long Spread(long spread)
    {
        if (spread <= 0)
        {
            return 0;
        }

        lock (_gate)
        {
            return _random.NextInt64(-spread, spread + 1);
        }
    }
}
