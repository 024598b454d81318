using System.Diagnostics.Metrics;

namespace Shout.Tests.Rooms;

/// <summary>A meter factory for one test class: the meters it made are disposed with it.</summary>
internal sealed class TestMeters : IMeterFactory
{
    private readonly List<Meter> _made = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _made.Add(meter);
        return meter;
    }

    public void Dispose() => _made.ForEach(m => m.Dispose());
}
