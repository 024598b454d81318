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

    public static async Task<NatsCluster> StartAsync(TimeSpan patience)
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
            return new NatsCluster([.. nodes]);
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

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
