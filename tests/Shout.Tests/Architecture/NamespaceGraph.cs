using ArchUnitNET.Domain;
using ArchUnitNET.Loader;

namespace Shout.Tests.Architecture;

/// <summary>
/// The namespaces of the Shout assembly and which depend on which, read from the compiled IL
/// (so a dependency through a base type, a field, a generic argument or a method body counts, not
/// only a <c>using</c>). Each edge keeps the type pairs that make it, for the failure message.
/// </summary>
internal sealed class NamespaceGraph
{
    private static readonly Lazy<NamespaceGraph> Shared = new(Load);

    internal NamespaceGraph(SortedDictionary<string, SortedDictionary<string, SortedSet<string>>> edges) => Edges = edges;

    public static NamespaceGraph Instance => Shared.Value;

    /// <summary>From namespace → to namespace → "FromType → ToType" examples.</summary>
    public SortedDictionary<string, SortedDictionary<string, SortedSet<string>>> Edges { get; }

    private static NamespaceGraph Load()
    {
        var architecture = new ArchLoader().LoadAssemblies(typeof(Shout.Sessions.Session).Assembly).Build();
        var edges = new SortedDictionary<string, SortedDictionary<string, SortedSet<string>>>(StringComparer.Ordinal);
        foreach (var type in architecture.Types)
        {
            var from = Owner(type);
            if (from is null)
            {
                continue;
            }

            foreach (var dependency in type.Dependencies)
            {
                // A call to a generic method comes back as a "type" named by the method's signature
                // (Type::Method(...)); it is a member, not a type, and its owner is already counted.
                if (dependency.Target.FullName.Contains("::", StringComparison.Ordinal))
                {
                    continue;
                }

                var to = Owner(dependency.Target);
                if (to is null || to == from)
                {
                    continue;
                }

                if (!edges.TryGetValue(from, out var targets))
                {
                    edges[from] = targets = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
                }

                if (!targets.TryGetValue(to, out var why))
                {
                    targets[to] = why = new SortedSet<string>(StringComparer.Ordinal);
                }

                why.Add($"{Short(type)} → {Short(dependency.Target)}");
            }
        }

        return new NamespaceGraph(edges);
    }

    /// <summary>The Shout namespace a type belongs to; compiler-made types count for the type they were made for.</summary>
    private static string? Owner(IType type)
    {
        var name = type.Namespace?.FullName ?? string.Empty;
        return name == "Shout" || name.StartsWith("Shout.", StringComparison.Ordinal) ? name : null;
    }

    private static string Short(IType type)
    {
        var name = type.FullName;
        var cut = name.IndexOf('<', StringComparison.Ordinal);
        name = cut > 0 ? name[..cut] : name;
        return name.StartsWith("Shout.", StringComparison.Ordinal) ? name["Shout.".Length..] : name;
    }

    /// <summary>Strongly connected sets of more than one namespace: each is a cycle.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<IReadOnlyList<string>>();
        var counter = 0;

        void Visit(string node)
        {
            index[node] = low[node] = counter++;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in Targets(node))
            {
                if (!index.TryGetValue(next, out var seen))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], seen);
                }
            }

            if (low[node] != index[node])
            {
                return;
            }

            var set = new List<string>();
            string member;
            do
            {
                member = stack.Pop();
                onStack.Remove(member);
                set.Add(member);
            }
            while (member != node);
            if (set.Count > 1)
            {
                set.Sort(StringComparer.Ordinal);
                result.Add(set);
            }
        }

        foreach (var node in Edges.Keys.Concat(Edges.Values.SelectMany(t => t.Keys)).Distinct().Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return result;
    }

    public IEnumerable<string> Targets(string from) =>
        Edges.TryGetValue(from, out var targets) ? targets.Keys : [];

    /// <summary>The edges inside one cycle, each with up to three type pairs that make it.</summary>
    public string Describe(IReadOnlyList<string> cycle)
    {
        var lines = new List<string> { "cycle: " + string.Join(", ", cycle) };
        foreach (var from in cycle)
        {
            foreach (var to in Targets(from).Where(cycle.Contains))
            {
                lines.Add($"  {from} → {to}: {string.Join("; ", Edges[from][to].Take(3))}");
            }
        }

        return string.Join(Environment.NewLine, lines);
    }
}
