namespace Shout.Toxics;

/// <summary>
/// One toxic as the API shows it: name, type, stream, toxicity (the share of connections it acts
/// on, 0..1) and its attributes. Immutable: an update makes a new one, so a connection that decided
/// whether a toxic applies to it decides again for the updated one, as toxiproxy restarts a toxic.
/// </summary>
internal sealed record ToxicSpec(string Name, string Type, ToxicStream Stream, double Toxicity, IReadOnlyDictionary<string, long> Attributes)
{
    public long this[string attribute] => Attributes.TryGetValue(attribute, out var v) ? v : 0;

    public string StreamName => Stream == ToxicStream.Upstream ? "upstream" : "downstream";

    /// <summary>Checks the type, each attribute and the toxicity; null when valid, else the one-line reason.</summary>
    public static string? Check(string type, IReadOnlyDictionary<string, long> attributes, double toxicity)
    {
        if (!ToxicTypes.TryGet(type, out var known))
        {
            return $"invalid toxic type '{type}' (known: {ToxicTypes.Known})";
        }

        foreach (var name in attributes.Keys)
        {
            if (!known.Any(a => a.Name == name))
            {
                return $"unknown attribute '{name}' for {type} (known: {string.Join(", ", known.Select(a => a.Name))})";
            }
        }

        foreach (var a in known)
        {
            if (attributes.TryGetValue(a.Name, out var v) && (v < a.Min || v > a.Max))
            {
                return $"{type} {a.Name} {v} is out of range ({a.Min}..{a.Max})";
            }
        }

        if (type == "slicer" && attributes.TryGetValue("size_variation", out var variation)
            && variation >= (attributes.TryGetValue("average_size", out var average) ? average : 1))
        {
            return $"slicer size_variation {variation} must be smaller than average_size";
        }

        return double.IsNaN(toxicity) || toxicity < 0 || toxicity > 1 ? $"toxicity {toxicity} is out of range (0..1)" : null;
    }

    /// <summary>The attributes with every default filled in, as the API shows them.</summary>
    public static Dictionary<string, long> WithDefaults(string type, IReadOnlyDictionary<string, long> given)
    {
        ToxicTypes.TryGet(type, out var known);
        var all = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var a in known ?? [])
        {
            all[a.Name] = given.TryGetValue(a.Name, out var v) ? v : a.Default;
        }

        return all;
    }

    /// <summary>The name toxiproxy gives a toxic created without one: type_stream.</summary>
    public static string DefaultName(string type, ToxicStream stream) =>
        $"{type}_{(stream == ToxicStream.Upstream ? "upstream" : "downstream")}";

    public static bool TryParseStream(string text, out ToxicStream stream)
    {
        switch (text.ToLowerInvariant())
        {
            case "upstream":
                stream = ToxicStream.Upstream;
                return true;
            case "downstream":
                stream = ToxicStream.Downstream;
                return true;
            default:
                stream = ToxicStream.Downstream;
                return false;
        }
    }
}
