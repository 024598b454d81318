using System.Net.Sockets;
using System.Text.RegularExpressions;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

/// <summary><c>/metrics</c> follows Prometheus naming: base units as suffixes, counters typed counter with <c>_total</c>.</summary>
public sealed partial class MetricsConventionsTests
{
    [Fact]
    public async Task Metrics_are_named_typed_and_described_by_prometheus_conventions()
    {
        await using var server = await WebServer.StartAsync();
        using (var socket = await RawClient.ConnectAsync(server.Endpoint))
        {
            await socket.SendAsync("hello"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
            await RawClient.ReadToEndAsync(socket);
        }

        await Eventually.TrueAsync(() => server.Metrics.ClosedConnections == 1, TimeSpan.FromSeconds(15), () => "close not counted");
        using var http = server.Http();
        var families = PrometheusText.Parse(await http.GetStringAsync("/metrics"));

        foreach (var family in families.Values)
        {
            Assert.Matches(SnakeCase(), family.Name);
            Assert.False(family.Name.StartsWith("shout_shout_", StringComparison.Ordinal), family.Name);
            Assert.True(family.Type == "counter" == family.Name.EndsWith("_total", StringComparison.Ordinal),
                $"{family.Name} is a {family.Type}: counters, and only counters, end in _total");
            Assert.False(string.IsNullOrWhiteSpace(family.Help), $"{family.Name} has no HELP");
            Assert.DoesNotMatch(DotNetTypeName(), family.Help!);
        }

        (string Name, string Type)[] expected =
        [
            ("shout_connections_accepted_total", "counter"),
            ("shout_connections_closed_total", "counter"),
            ("shout_connections_active", "gauge"),
            ("shout_received_bytes_total", "counter"),
            ("shout_sent_bytes_total", "counter"),
            ("shout_messages_total", "counter"),
            ("shout_connection_duration_seconds", "histogram"),
            ("process_cpu_seconds_total", "counter"),
            ("process_working_set_bytes", "gauge"),
            ("process_open_handles", "gauge"),
            ("dotnet_collection_count_total", "counter"),
            ("dotnet_total_memory_bytes", "gauge"),
        ];
        foreach (var (name, type) in expected)
        {
            Assert.True(families.TryGetValue(name, out var family), $"no {name} in /metrics");
            Assert.Equal(type, family!.Type);
        }

        Assert.Equal(5, families["shout_received_bytes_total"].Samples.Single(s => s.Labels["transport"] == "tcp").Value);
        var duration = families["shout_connection_duration_seconds"].Samples.Single(s => s.Name.EndsWith("_sum", StringComparison.Ordinal));
        Assert.InRange(duration.Value, 0, 60); // seconds, not milliseconds
        Assert.True(families["process_cpu_seconds_total"].Samples[0].Value > 0);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex SnakeCase();

    [GeneratedRegex(@"`\d|Counter|Histogram|Gauge|System\.")]
    private static partial Regex DotNetTypeName();
}
