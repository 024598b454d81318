using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Playwright;
using Shout.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// The live view's charts in Chromium, at idle and under load: the tick labels the canvas drew are
/// read back (the chart leaves them in data-* attributes) and checked: distinct, increasing, with
/// units, wide enough not to be cut; titles present; a stale mark once the server is gone.
/// Screenshots of both states are saved (docs/screenshots with SHOUT_UPDATE_SCREENSHOTS=1).
/// </summary>
public sealed class LiveViewChartTests(Browser browser) : IClassFixture<Browser>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Chart_axes_read_well_at_idle_under_load_and_when_stale()
    {
        var server = await WebServer.StartAsync();
        var folder = Environment.GetEnvironmentVariable("SHOUT_UPDATE_SCREENSHOTS") == "1"
            ? Path.Combine(Repo.Root, "docs", "screenshots")
            : Repo.TempDir();
        var page = await browser.NewPageAsync(1280, 800, false);
        await page.GotoAsync(server.Web().ToString());
        await Expect(page.Locator("#live-status")).ToHaveAttributeAsync("data-state", "open", new() { Timeout = 30_000 });

        // Idle: a 0–4 scale of whole steps, never "1B 1B 1B 0B 0B".
        await page.WaitForFunctionAsync("() => document.getElementById('chart-bytes').dataset.yTicks", null, new() { Timeout = 30_000 });
        var idleMessages = await TicksAsync(page, "chart-messages");
        var idleBytes = await TicksAsync(page, "chart-bytes");
        CheckAxis(idleMessages, Count);
        CheckAxis(idleBytes, Bytes);
        Assert.All(idleBytes.Y, l => Assert.EndsWith("/s", l, StringComparison.Ordinal));
        Assert.Equal(["messages/s", "open connections"], idleMessages.Titles);
        Assert.Equal(["bytes/s (in, out)"], idleBytes.Titles);
        Assert.Equal("now", idleMessages.X[0]);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "live-idle.png") });

        // Under load: thousands of messages a second, so labels like "80,000" must fit.
        using var traffic = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(_ => PingPong(server, traffic.Token)).ToList();
        await page.WaitForFunctionAsync("() => JSON.parse(document.getElementById('chart-messages').dataset.yTicks)[4].length >= 5",
            null, new() { Timeout = 60_000 });
        var loadMessages = await TicksAsync(page, "chart-messages");
        var loadBytes = await TicksAsync(page, "chart-bytes");
        CheckAxis(loadMessages, Count);
        CheckAxis(loadBytes, Bytes);
        CheckAxis(loadMessages with { Y = loadMessages.Right }, Count);
        Assert.All(loadMessages.Right, l => Assert.Equal(Math.Round(Count(l)), Count(l)));
        // Every tile's figure fits its tile on one line (the bytes tile used to wrap).
        Assert.True(await page.EvaluateAsync<bool>(
            "() => [...document.querySelectorAll('.tile .value')].every(e => e.scrollWidth <= e.clientWidth + 1 && e.getClientRects().length === 1)"),
            await page.EvaluateAsync<string>("() => [...document.querySelectorAll('.tile .value')].map(e => e.textContent + ':' + e.scrollWidth + '/' + e.clientWidth).join(' ')"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "live-load.png") });
        await traffic.CancelAsync();
        await Task.WhenAll(clients);

        // The server goes away: what is on screen is marked stale.
        await server.DisposeAsync();
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-stale", "true", new() { Timeout = 30_000 });
        await Expect(page.Locator("#chart-messages")).ToHaveAttributeAsync("data-stale", "true", new() { Timeout = 30_000 });
        await Expect(page.Locator("#live-status")).ToContainTextAsync("stale since", new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "live-stale.png") });
        Assert.True(new FileInfo(Path.Combine(folder, "live-load.png")).Length > 10_000);
        await page.Context.CloseAsync();
    }

    private sealed record Axis(string[] Y, string[] Right, string[] X, string[] Titles, int LeftPad, int LabelWidth);

    private static async Task<Axis> TicksAsync(IPage page, string id)
    {
        var json = await page.EvaluateAsync<string>($$"""
            () => { const d = document.getElementById('{{id}}').dataset;
              return JSON.stringify({ y: d.yTicks, r: d.yRightTicks, x: d.xTicks, t: d.titles, p: d.leftPad, w: d.leftLabelWidth }); }
            """);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        string[] Array(string name) => JsonSerializer.Deserialize<string[]>(root.GetProperty(name).GetString()!)!;
        return new Axis(Array("y"), Array("r"), Array("x"), Array("t"),
            int.Parse(root.GetProperty("p").GetString()!, CultureInfo.InvariantCulture), int.Parse(root.GetProperty("w").GetString()!, CultureInfo.InvariantCulture));
    }

    /// <summary>Five labels, distinct, starting at 0 and increasing, and drawn inside the chart's left margin.</summary>
    private static void CheckAxis(Axis axis, Func<string, double> value)
    {
        Assert.Equal(5, axis.Y.Length);
        Assert.Equal(5, axis.Y.Distinct().Count());
        var values = axis.Y.Select(value).ToArray();
        Assert.Equal(0, values[0]);
        for (var i = 1; i < values.Length; i++)
        {
            Assert.True(values[i] > values[i - 1], $"ticks not increasing: {string.Join(" ", axis.Y)}");
        }

        Assert.True(axis.LabelWidth > 0 && axis.LabelWidth <= axis.LeftPad - 6, $"labels {axis.LabelWidth}px wide in a {axis.LeftPad}px margin");
        Assert.True(axis.X.Length >= 2);
    }

    private static double Count(string label) => double.Parse(label.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private static double Bytes(string label)
    {
        var parts = label.Replace("/s", "", StringComparison.Ordinal).Split(' ');
        var scale = parts[1] switch { "B" => 1, "KB" => 1e3, "MB" => 1e6, "GB" => 1e9, _ => throw new FormatException(label) };
        return double.Parse(parts[0], CultureInfo.InvariantCulture) * scale;
    }

    private static async Task PingPong(TestServer server, CancellationToken stop)
    {
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        var message = "load load load\n"u8.ToArray();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await socket.SendAsync(message, SocketFlags.None, stop);
                await RawClient.ReadExactlyAsync(socket, message.Length);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
        {
        }
    }
}
