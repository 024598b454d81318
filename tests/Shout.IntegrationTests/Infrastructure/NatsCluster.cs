using System.Globalization;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// Three Debian <c>nats-server</c>s with JetStream clustered on loopback ports (each its own temp
/// directory and store), ready once the cluster has elected its JetStream metadata leader. Any one
/// node can be killed and started again on its ports with its store, as an outage would.
/// </summary>
internal sealed class NatsCluster : IAsyncDisposable
{
    private readonly List<NatsServer> _nodes;
    private readonly int[] _routes;

    private NatsCluster(List<NatsServer> nodes, int[] routes)
    {
        _nodes = nodes;
        _routes = routes;
    }

    public IReadOnlyList<NatsServer> Nodes => _nodes;

    /// <summary>Every node's client URL, starting with node <paramref name="first"/> (what an instance is given, tried in order).</summary>
    public string Urls(int first) =>
        string.Join(',', Enumerable.Range(0, Nodes.Count).Select(i => Nodes[(first + i) % Nodes.Count].Url.ToString().TrimEnd('/')));

    /// <summary>
    /// Starts the three nodes; a start that fails (a route port, found free a moment before, taken by
    /// another test's connection in between: the nodes bind ports chosen here, not by themselves) is
    /// tried again on other ports, twice at most, and the last failure is thrown.
    /// </summary>
    public static async Task<NatsCluster> StartAsync(TimeSpan patience)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(patience);
            }
            catch (Exception e) when (attempt < 3 && e is not OperationCanceledException)
            {
                Console.Error.WriteLine($"NATS cluster start {attempt} failed, trying other ports: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Only the first node, its routes to the other two set but nothing there yet: a cluster still
    /// forming, whose JetStream cannot make a stream. <see cref="JoinTheOthersAsync"/> starts them.
    /// </summary>
    public static async Task<NatsCluster> StartFirstNodeAsync()
    {
        var routes = Enumerable.Range(0, 3).Select(_ => NatsServer.FreePort()).ToArray();
        return new NatsCluster([await StartNodeAsync(routes, 0)], routes);
    }

    /// <summary>Starts the nodes not started yet and waits until the cluster can place a stream of three copies.</summary>
    public async Task JoinTheOthersAsync(TimeSpan patience)
    {
        for (var i = _nodes.Count; i < _routes.Length; i++)
        {
            _nodes.Add(await StartNodeAsync(_routes, i));
        }

        // Streams can be made only once the cluster has a JetStream metadata leader.
        await Eventually.TrueAsync(() => _nodes.Any(n => n.Log.Contains("JetStream cluster new metadata leader", StringComparison.Ordinal)),
            patience, () => "the NATS cluster elected no JetStream leader:\n" + string.Join("\n---\n", _nodes.Select(n => n.Log)));

        // And once every node has joined it: before that a stream of three copies is refused
        // ("no suitable peers for placement").
        var why = "";
        await Eventually.TrueAsync(async () =>
        {
            why = await TryPlaceThreeCopiesAsync();
            return why.Length == 0;
        }, patience, () => "the NATS cluster cannot place a stream of three copies: " + why);
    }

    private static Task<NatsServer> StartNodeAsync(int[] routes, int i)
    {
        var all = string.Join(',', routes.Select(p => string.Create(CultureInfo.InvariantCulture, $"nats://127.0.0.1:{p}")));
        return NatsServer.StartAsync(["-js", "--server_name", $"n{i + 1}", "--cluster_name", "shout",
            "--cluster", string.Create(CultureInfo.InvariantCulture, $"nats://127.0.0.1:{routes[i]}"), "--routes", all]);
    }

    private static async Task<NatsCluster> TryStartAsync(TimeSpan patience)
    {
        var cluster = new NatsCluster([], Enumerable.Range(0, 3).Select(_ => NatsServer.FreePort()).ToArray());
        try
        {
            // Ready once every node has joined: an instance started before would run without the room stream for a while.
            await cluster.JoinTheOthersAsync(patience);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Makes and deletes a probe stream with three copies; "" when it could, else why not.</summary>
    private async Task<string> TryPlaceThreeCopiesAsync()
    {
        try
        {
            await using var nats = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = Urls(0) });
            var js = new NATS.Client.JetStream.NatsJSContext(nats);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await js.CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig("CLUSTER_PROBE", ["cluster.probe"])
            {
                NumReplicas = 3,
                Storage = NATS.Client.JetStream.Models.StreamConfigStorage.Memory,
            }, timeout.Token);
            await js.DeleteStreamAsync("CLUSTER_PROBE", timeout.Token);
            return "";
        }
        catch (Exception e) when (e is NATS.Client.Core.NatsException or OperationCanceledException or TimeoutException)
        {
            return e.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
