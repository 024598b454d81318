using System.Globalization;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// Three Debian <c>nats-server</c>s with JetStream clustered on loopback ports (each its own temp
/// directory and store), ready once the cluster has elected its JetStream metadata leader. Any one
/// node can be killed and started again on its ports with its store, as an outage would.
/// </summary>
internal sealed class NatsCluster : IAsyncDisposable
{
    private NatsCluster(NatsServer[] nodes) => Nodes = nodes;

    public IReadOnlyList<NatsServer> Nodes { get; }

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

    private static async Task<NatsCluster> TryStartAsync(TimeSpan patience)
    {
        var routes = Enumerable.Range(0, 3).Select(_ => NatsServer.FreePort()).ToArray();
        var all = string.Join(',', routes.Select(p => string.Create(CultureInfo.InvariantCulture, $"nats://127.0.0.1:{p}")));
        var nodes = new List<NatsServer>();
        try
        {
            for (var i = 0; i < routes.Length; i++)
            {
                nodes.Add(await NatsServer.StartAsync(["-js", "--server_name", $"n{i + 1}", "--cluster_name", "shout",
                    "--cluster", string.Create(CultureInfo.InvariantCulture, $"nats://127.0.0.1:{routes[i]}"), "--routes", all]));
            }

            // Streams can be made only once the cluster has a JetStream metadata leader.
            await Eventually.TrueAsync(() => nodes.Any(n => n.Log.Contains("JetStream cluster new metadata leader", StringComparison.Ordinal)),
                patience, () => "the NATS cluster elected no JetStream leader:\n" + string.Join("\n---\n", nodes.Select(n => n.Log)));

            // And once every node has joined it: before that a stream of three copies is refused
            // ("no suitable peers for placement"), and an instance started then runs without one.
            var cluster = new NatsCluster([.. nodes]);
            var why = "";
            await Eventually.TrueAsync(async () =>
            {
                why = await cluster.TryPlaceThreeCopiesAsync();
                return why.Length == 0;
            }, patience, () => "the NATS cluster cannot place a stream of three copies: " + why);
            return cluster;
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

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
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
