using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Rooms;

/// <summary>Row 30: the bus's password or token never appears in serve's output, text or JSON, through connect, outage and reconnect.</summary>
public sealed class RoomBusLogTests
{
    private const string Secret = "Pw-that-must-not-leak-7731";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("text", "url-password")]
    [InlineData("json", "url-password")]
    [InlineData("text", "env-password")]
    [InlineData("json", "env-password")]
    [InlineData("json", "url-token")]
    [InlineData("text", "env-token")]
    public async Task The_bus_secret_never_appears_in_any_log_line(string format, string source)
    {
        var token = source.EndsWith("token", StringComparison.Ordinal);
        await using var nats = await NatsServer.StartAsync(token ? ["--auth", Secret] : ["--user", "shout", "--pass", Secret]);
        var url = source switch
        {
            "url-password" => $"nats://shout:{Secret}@127.0.0.1:{nats.Port}",
            "url-token" => $"nats://{Secret}@127.0.0.1:{nats.Port}",
            _ => nats.Url.ToString(),
        };
        var environment = new Dictionary<string, string>();
        string[] args = ["serve", "--mode", "room", "--listen", "tcp://127.0.0.1:0", "--log-format", format, "-v", "--bus", url];
        if (source == "env-password")
        {
            environment["SHOUT_BUS_PASSWORD"] = Secret;
            args = [.. args, "--bus-user", "shout"];
        }
        else if (source == "env-token")
        {
            environment["SHOUT_BUS_TOKEN"] = Secret;
        }

        await using var serve = ProcessHarness.Start("dotnet", [Repo.CliDll, .. ShoutArgs.ForTests(args)], environment: environment);
        await serve.WaitForOutputAsync(o => Count(o, "Room bus connected to") == 1, Patience);

        // An outage and a reconnect: the lines most likely to name the server.
        await nats.KillAsync();
        await serve.WaitForOutputAsync(o => o.Contains("lost: members here still hear each other", StringComparison.Ordinal), Patience);
        await nats.StartAgainAsync();
        await serve.WaitForOutputAsync(o => Count(o, "Room bus connected to") == 2, Patience);
        serve.Signal(15);
        Assert.Equal(0, await serve.WaitForExitAsync(Patience));

        var output = serve.Stdout + serve.Stderr;
        Assert.Contains($"127.0.0.1:{nats.Port}", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nats://shout:" + Secret + "@127.0.0.1")]
    [InlineData("nats://shout:" + Secret + "@127.0.0.1:4222/path")]
    [InlineData("http://" + Secret + "@127.0.0.1:4222")]
    public async Task A_wrong_bus_address_is_refused_without_showing_its_secret(string url)
    {
        await using var serve = ProcessHarness.StartShout("serve", "--mode", "room", "--listen", "tcp://127.0.0.1:0", "--bus", url);
        Assert.Equal(2, await serve.WaitForExitAsync(Patience));
        Assert.Contains("is not a bus address", serve.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, serve.Stdout + serve.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--bus nats://127.0.0.1:4222 --bus-user shout", "--bus-user needs its password in SHOUT_BUS_PASSWORD")]
    [InlineData("--bus nats://127.0.0.1:4222 --bus-creds /nonexistent/shout.creds", "--bus-creds /nonexistent/shout.creds: does not exist")]
    [InlineData("--bus-ca /nonexistent/ca.pem", "bus credentials and TLS settings need --bus")]
    [InlineData("--bus nats://127.0.0.1:4222 --bus-nkey /etc/hostname --bus-creds /etc/hostname", "use one way to authenticate to the bus")]
    [InlineData("--bus nats://127.0.0.1:4222 --bus-nkey /etc/hostname", "--bus-nkey: /etc/hostname holds no user nkey seed")]
    public async Task Bus_settings_that_cannot_work_are_refused_at_start_in_one_line(string options, string expected)
    {
        await using var serve = ProcessHarness.StartShout(["serve", "--mode", "room", "--listen", "tcp://127.0.0.1:0", .. options.Split(' ')]);
        Assert.Equal(2, await serve.WaitForExitAsync(Patience));
        Assert.Contains(expected, serve.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", serve.Stderr, StringComparison.Ordinal);
    }

    private static int Count(string text, string what) =>
        text.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));
}
