using System.Diagnostics;

namespace Shout.Toxics;

/// <summary>
/// Whether each toxic acts on one connection (or one datagram flow): decided once per toxic (and
/// again after an update, which makes a new toxic), with the toxic's toxicity as the chance; also
/// when the connection first met it (the timeout toxic counts from then).
/// </summary>
internal sealed class ToxicDecisions(ToxicRandom random)
{
    private readonly Dictionary<ToxicSpec, Decision> _decisions = new(ReferenceEqualityComparer.Instance);

    public bool Applies(ToxicSpec toxic, out long firstSeen)
    {
        lock (_decisions)
        {
            if (!_decisions.TryGetValue(toxic, out var decision))
            {
                decision = new Decision(random.Hit(toxic.Toxicity), Stopwatch.GetTimestamp());
                _decisions[toxic] = decision;
            }

            firstSeen = decision.FirstSeen;
            return decision.Applies;
        }
    }

    private readonly record struct Decision(bool Applies, long FirstSeen);
}
