namespace Shout.Tests.Architecture;

/// <summary>
/// The design as a test (docs/architecture.md): the server is built in layers, each folder one
/// namespace, and a namespace uses only its own layer's neighbours listed here and the layers below.
/// Read from the compiled assembly, so a dependency hidden in a method body counts.
/// </summary>
public sealed class LayerTests
{
    /// <summary>Leaves every part may use: text rules, option parsing, addresses, TCP state names, log event ids.</summary>
    private static readonly string[] Base = ["Shout", "Text", "Configuration", "Endpoints", "Diagnostics"];

    /// <summary>Each top-level folder under src/Shout and the folders it may use besides <see cref="Base"/>.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Shout"] = [],
        ["Text"] = [],
        ["Configuration"] = [],
        ["Endpoints"] = [],
        ["Diagnostics"] = [],

        // The session core: admission, timeouts, lifecycle, close reasons, metrics. Knows no transport and no protocol.
        ["Sessions"] = [],

        // What a session says: echo, line framing, the seams' protocol contracts. Knows sessions, not transports.
        ["Protocols"] = ["Sessions"],

        // The room protocol, its hub, history and bus; one member adapter per seam.
        ["Rooms"] = ["Sessions", "Protocols"],

        // The web port: page, live view, metrics, and its gates (admission, origin check).
        ["Web"] = ["Sessions", "Rooms", "Trace"],

        // Moving bytes: the stream loop, epoll, TLS, Unix, UDP, WebSocket (mounted behind the web port's gates).
        // No transport knows rooms or the host that composes it.
        ["Transports"] = ["Sessions", "Protocols", "Web"],

        // Composes a server from options: the one place that knows every layer.
        ["Hosting"] = ["Sessions", "Protocols", "Rooms", "Web", "Transports", "Trace", "Toxics"],

        // Programs beside the server.
        ["Client"] = [],
        ["Load"] = ["Client"],
        ["Toxics"] = ["Transports"], // a TLS-terminating proxy loads certificates as the server's TLS transport does
        ["Trace"] = [],
    };

    [Fact]
    public void No_namespace_depends_on_another_that_depends_back_on_it()
    {
        var graph = NamespaceGraph.Instance;
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, string.Join(Environment.NewLine, cycles.Select(graph.Describe)));
    }

    [Fact]
    public void Every_namespace_uses_only_the_layers_it_is_allowed()
    {
        var graph = NamespaceGraph.Instance;
        var breaches = new List<string>();
        foreach (var (from, targets) in graph.Edges)
        {
            var module = Module(from);
            Assert.True(Allowed.ContainsKey(module), $"{from}: a folder the layer table does not list; add it with what it may use");
            foreach (var (to, why) in targets)
            {
                var target = Module(to);
                if (target != module && !Base.Contains(target) && !Allowed[module].Contains(target))
                {
                    breaches.Add($"{from} → {to}: {string.Join("; ", why.Take(3))}");
                }
            }
        }

        Assert.True(breaches.Count == 0, "upward or sideways references:" + Environment.NewLine + string.Join(Environment.NewLine, breaches));
    }

    [Fact]
    public void A_cycle_is_found_and_named_with_the_types_that_make_it()
    {
        // The check itself must be able to fail: a made-up graph with a cycle through three namespaces.
        var graph = new NamespaceGraph(new(StringComparer.Ordinal)
        {
            ["Shout.A"] = new(StringComparer.Ordinal) { ["Shout.B"] = new(StringComparer.Ordinal) { "A.X → B.Y" } },
            ["Shout.B"] = new(StringComparer.Ordinal) { ["Shout.C"] = new(StringComparer.Ordinal) { "B.Y → C.Z" } },
            ["Shout.C"] = new(StringComparer.Ordinal)
            {
                ["Shout.A"] = new(StringComparer.Ordinal) { "C.Z → A.X" },
                ["Shout.D"] = new(StringComparer.Ordinal) { "C.Z → D.W" },
            },
        });

        var cycle = Assert.Single(graph.Cycles());
        Assert.Equal(["Shout.A", "Shout.B", "Shout.C"], cycle);
        Assert.Contains("Shout.C → Shout.A: C.Z → A.X", graph.Describe(cycle), StringComparison.Ordinal);
    }

    [Fact]
    public void The_graph_sees_dependencies_the_source_has()
    {
        // A known edge, so an empty graph (a loader that read nothing) cannot pass the checks above.
        var graph = NamespaceGraph.Instance;
        Assert.Contains("Shout.Sessions", graph.Targets("Shout.Transports.Streams"));
        Assert.Contains("Shout.Protocols", graph.Targets("Shout.Rooms"));
    }

    private static string Module(string name) =>
        name == "Shout" ? "Shout" : name["Shout.".Length..].Split('.')[0];
}
