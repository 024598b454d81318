using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using NATS.NKeys;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Rooms.Bus;
using Shout.Rooms;

namespace Shout.IntegrationTests.Rooms;

/// <summary>Row 30: a client on the room bus that is not an instance (a bare NATS.Net client), against a real nats-server.</summary>
public sealed class RoomBusGuardTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Forged_lines_from_a_bare_client_never_reach_members_unprefixed_and_are_counted()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var a = await StartInstanceAsync(o => o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url));
        await using var b = await StartInstanceAsync(o => o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url));
        await using var bob = await RoomClient.JoinAsync(a.Endpoint, "bob");
        await using var carol = await RoomClient.JoinAsync(b.Endpoint, "carol");
        await using var bare = new NatsConnection(new NatsOpts { Url = nats.Url.ToString() });
        await bare.ConnectAsync();

        var stranger = Guid.NewGuid();
        byte[] Said(string nick, string said, long sequence) =>
            new BusMessage(stranger, 1, sequence, BusKind.Line, BusShape.Said, "lobby", nick, "", Encoding.UTF8.GetBytes(said)).Encode();
        var forged = new List<byte[]>
        {
            "* admin joined lobby\n"u8.ToArray(),
            "ADMIN: RESTARTING, SEND YOUR PASSWORD\n"u8.ToArray(),
            Said("mallory", "* admin joined lobby\n", 1),
            Said("mallory", "mallory: HI\n* admin joined lobby\n", 2),
            Said("mallory", "mallory: HI\rBOB: I AM BOB\n", 3),
            Said("mallory", "mallory: \u001b]52;c;SGVsbG8=\u0007\u001b[2J\n", 4),
            Said("mallory", "mallory: \u009b31mRED\n", 5),
            Said("mal\u001bory", "mal\u001bory: HI\n", 6),
            Said("mallory", "mallory: " + new string('X', 200_000) + "\n", 7),
            new BusMessage(stranger, 2, 1, BusKind.Line, BusShape.Joined, "lobby", "admin", "", "* admin joined lobby\n"u8.ToArray()).Encode(),
            new BusMessage(stranger, 3, 1, BusKind.Line, BusShape.Joined, "other", "admin", "", default).Encode(),
        };
        foreach (var bytes in forged)
        {
            await bare.PublishAsync("shout.room.lobby", bytes);
        }

        // Once the server has them all, a real line: every member has been sent the forged ones before it.
        await bare.PingAsync();
        await carol.SendAsync("sentinel");
        var heardByBob = await bob.ReadUntilAsync("carol: SENTINEL", Patience);
        await bob.SendAsync("done");
        await carol.ReadUntilAsync("bob: DONE", Patience);

        // What bob saw across the bus before carol's line: her notices, nothing forged.
        Assert.All(heardByBob, l => Assert.Matches(@"^(OK .*|\* guest\d+ joined lobby|\* guest\d+ is now carol)$", l));
        Assert.DoesNotContain(carol.Seen, l => l.Contains("ADMIN", StringComparison.OrdinalIgnoreCase) || l.Contains("mal", StringComparison.Ordinal));
        foreach (var instance in new[] { a, b })
        {
            var metrics = instance.Server.Services.GetRoomMetrics();
            await Eventually.TrueAsync(() => metrics.RefusedTotal == forged.Count, Patience,
                () => $"refused {metrics.RefusedTotal} of {forged.Count}: shape {metrics.Refused(BusRefusal.Shape)}, name {metrics.Refused(BusRefusal.Name)}, "
                    + $"text {metrics.Refused(BusRefusal.Text)}, size {metrics.Refused(BusRefusal.Size)}");
            Assert.Equal(3, metrics.Refused(BusRefusal.Shape));
            Assert.Equal(2, metrics.Refused(BusRefusal.Name));
            Assert.Equal(5, metrics.Refused(BusRefusal.Text));
            Assert.Equal(1, metrics.Refused(BusRefusal.Size));

            // Refused messages are never remembered: only carol (or bob) is.
            Assert.Equal(1, instance.Server.Services.GetRequiredService<NatsRoomBus>().Senders);
        }
    }

    [Fact]
    public async Task A_flood_of_200k_invented_senders_keeps_the_sender_table_bounded_and_frees_it()
    {
        await using var nats = await NatsServer.StartAsync();
        await using var a = await StartInstanceAsync(o =>
        {
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
            o.Rooms.Bus.SenderIdle = TimeSpan.FromSeconds(3);
        });
        var metrics = a.Server.Services.GetRoomMetrics();
        var bus = a.Server.Services.GetRequiredService<NatsRoomBus>();
        await using var bare = new NatsConnection(new NatsOpts { Url = nats.Url.ToString() });
        await bare.ConnectAsync();
        var stranger = Guid.NewGuid();
        const int Senders = 200_000;
        const int Chunk = 10_000;
        var largest = 0;
        for (var start = 1; start <= Senders; start += Chunk)
        {
            for (var sender = start; sender < start + Chunk; sender++)
            {
                await bare.PublishAsync("shout.room.flood",
                    new BusMessage(stranger, sender, 1, BusKind.Line, BusShape.Said, "flood", "x", "", "x: A\n"u8.ToArray()).Encode());
            }

            // Each chunk taken in whole before the next: nothing is dropped on the way, every sender is new.
            var expected = start + Chunk - 1;
            await Eventually.TrueAsync(() => metrics.Received >= expected, Patience, () => $"received {metrics.Received} of {expected}");
            largest = Math.Max(largest, bus.Senders);
        }

        Assert.Equal(Senders, metrics.Received);
        Assert.Equal(ShoutBusOptions.DefaultSenderLimit, largest);
        Assert.True(bus.Senders <= ShoutBusOptions.DefaultSenderLimit, $"{bus.Senders} senders remembered");
        Assert.True(metrics.SendersForgotten >= Senders - ShoutBusOptions.DefaultSenderLimit, $"{metrics.SendersForgotten} forgotten");

        // Quiet now: every invented sender is forgotten once idle.
        await Eventually.TrueAsync(() => bus.Senders == 0 && metrics.Senders == 0, Patience, () => $"{bus.Senders} senders still remembered");
    }

    [Fact]
    public async Task With_a_password_instances_link_and_a_bare_client_without_it_is_refused()
    {
        const string Password = "S3cret-bus-pw";
        await using var nats = await NatsServer.StartAsync(["--user", "shout", "--pass", Password]);
        var withPassword = new UriBuilder(nats.Url) { UserName = "shout", Password = Password }.Uri;

        // One instance with the password in its URL, the other with --bus-user and SHOUT_BUS_PASSWORD's options.
        await AssertLinkedAsync(o => o.Rooms.Bus.Address = BusAddress.FromServer(withPassword), o =>
        {
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
            o.Rooms.Bus.User = "shout";
            o.Rooms.Bus.Password = Password;
        }, "over the bus");

        await AssertRefusedAsync(nats.Url.ToString());
        await AssertRefusedAsync(new UriBuilder(nats.Url) { UserName = "shout", Password = "guess" }.Uri.ToString());
    }

    [Fact]
    public async Task With_a_token_an_instance_links_and_a_bare_client_without_it_is_refused()
    {
        const string Token = "t0ken-for-the-bus";
        await using var nats = await NatsServer.StartAsync(["--auth", Token]);
        await using var a = await StartInstanceAsync(o =>
        {
            o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
            o.Rooms.Bus.Token = Token;
        });
        Assert.True(a.Server.Services.GetRequiredService<NatsRoomBus>().Connected);
        await AssertRefusedAsync(nats.Url.ToString());
    }

    [Fact]
    public async Task With_an_nkey_seed_file_instances_link_and_a_bare_client_without_it_is_refused()
    {
        // The server knows only the user's public key; the instances sign its challenge with the seed in --bus-nkey.
        using var user = KeyPair.CreatePair(PrefixByte.User);
        using var stranger = KeyPair.CreatePair(PrefixByte.User);
        await using var nats = await NatsServer.StartAsync(
            config: $"authorization {{\n  users = [ {{ nkey: \"{user.GetPublicKey()}\" }} ]\n}}\n");
        var seedFile = Path.Combine(Path.GetTempPath(), $"shout-bus-{Guid.NewGuid():N}.nk");
        await File.WriteAllTextAsync(seedFile, user.GetSeed() + "\n");
        try
        {
            void Configure(ShoutServerOptions o)
            {
                o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
                o.Rooms.Bus.NKeyFile = seedFile;
            }

            await AssertLinkedAsync(Configure, Configure, "signed");

            // No credentials, and a valid nkey the server does not list: both refused.
            await AssertRefusedAsync(nats.Url.ToString());
            await using var unknown = new NatsConnection(new NatsOpts
            {
                Url = nats.Url.ToString(),
                AuthOpts = new NatsAuthOpts { Seed = stranger.GetSeed(), NKey = stranger.GetPublicKey() },
                ConnectTimeout = TimeSpan.FromSeconds(10),
            });
            await Assert.ThrowsAnyAsync<NatsException>(async () => await unknown.ConnectAsync());
        }
        finally
        {
            File.Delete(seedFile);
        }
    }

    [Fact]
    public async Task With_a_creds_file_instances_link_and_a_bare_client_without_it_is_refused()
    {
        // Operator mode: the server trusts an operator, which signed an account, which signed the user in the creds file.
        var trust = NatsOperatorMode.Create();
        await using var nats = await NatsServer.StartAsync(config: trust.ServerConfig);
        var creds = Path.Combine(Path.GetTempPath(), $"shout-bus-{Guid.NewGuid():N}.creds");
        await File.WriteAllTextAsync(creds, trust.Creds);
        try
        {
            void Configure(ShoutServerOptions o)
            {
                o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
                o.Rooms.Bus.CredsFile = creds;
            }

            await AssertLinkedAsync(Configure, Configure, "with creds");

            await AssertRefusedAsync(nats.Url.ToString());
        }
        finally
        {
            File.Delete(creds);
        }
    }

    [Fact]
    public async Task A_tls_bus_works_with_a_ca_file_and_a_plain_client_is_refused()
    {
        var (certificate, key) = TestCertificates.LoopbackPem();
        await using var nats = await NatsServer.StartAsync(
            config: "tls {\n  cert_file: \"{dir}/server.pem\"\n  key_file: \"{dir}/server-key.pem\"\n}\n",
            files: new Dictionary<string, string> { ["server.pem"] = certificate, ["server-key.pem"] = key },
            scheme: "tls");
        var ca = Path.Combine(Path.GetTempPath(), $"shout-bus-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(ca, certificate);
        try
        {
            void Configure(ShoutServerOptions o)
            {
                o.Rooms.Bus.Address = BusAddress.FromServer(nats.Url);
                o.Rooms.Bus.CaFile = ca;
            }

            await AssertLinkedAsync(Configure, Configure, "encrypted");

            // Without the CA the server's certificate is not trusted; without TLS the server refuses.
            await AssertRefusedAsync(nats.Url.ToString());
            await AssertRefusedAsync(nats.Url.ToString().Replace("tls://", "nats://", StringComparison.Ordinal), TlsMode.Disable);
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Fact]
    public async Task With_two_servers_and_the_first_down_it_connects_to_the_second_and_logs_the_one_it_reached()
    {
        await using var first = await NatsServer.StartAsync();
        await using var second = await NatsServer.StartAsync();
        await first.KillAsync();
        using var logs = new LogCapture();
        await using var a = await StartInstanceAsync(o => o.Rooms.Bus.Address = BusAddress.Parse($"{first.Url},{second.Url}"), logs);
        var bus = a.Server.Services.GetRequiredService<NatsRoomBus>();
        string BusLines() => string.Join('\n', logs.Entries.Where(e => e.Message.StartsWith("Room bus", StringComparison.Ordinal)));
        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Message.StartsWith($"Room bus connected to nats://127.0.0.1:{second.Port} ", StringComparison.Ordinal)),
            Patience, BusLines);
        Assert.Equal($"nats://127.0.0.1:{second.Port}", bus.Server);
        Assert.DoesNotContain(logs.Entries, e => e.Message.StartsWith($"Room bus connected to nats://127.0.0.1:{first.Port}", StringComparison.Ordinal));

        // Failover: the second goes, the first comes back; the log names the first now.
        await first.StartAgainAsync();
        await second.KillAsync();
        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Message.StartsWith($"Room bus connected to nats://127.0.0.1:{first.Port} ", StringComparison.Ordinal)),
            Patience, BusLines);
        Assert.True(logs.Entries.Any(e => e.Message == $"Room bus nats://127.0.0.1:{second.Port} lost: members here still hear each other; reconnecting"), BusLines());
        Assert.Equal($"nats://127.0.0.1:{first.Port}", bus.Server);
    }

    /// <summary>Two instances, each configured by its own action, are linked: a line said on one reaches a member of the other.</summary>
    private static async Task AssertLinkedAsync(Action<ShoutServerOptions> first, Action<ShoutServerOptions> second, string text)
    {
        await using var a = await StartInstanceAsync(first);
        await using var b = await StartInstanceAsync(second);
        await using var alice = await RoomClient.JoinAsync(a.Endpoint, "alice");
        await using var bob = await RoomClient.JoinAsync(b.Endpoint, "bob");
        await alice.SendAsync(text);
        Assert.Equal($"alice: {text.ToUpperInvariant()}", await bob.ReadUntilAsync(l => l.StartsWith("alice:", StringComparison.Ordinal)));
    }

    private static async Task AssertRefusedAsync(string url, TlsMode tls = TlsMode.Auto)
    {
        await using var bare = new NatsConnection(new NatsOpts
        {
            Url = url,
            TlsOpts = new NatsTlsOpts { Mode = tls },
            ConnectTimeout = TimeSpan.FromSeconds(10),
        });
        await Assert.ThrowsAnyAsync<NatsException>(async () => await bare.ConnectAsync());
    }

    private static async Task<TestServer> StartInstanceAsync(Action<ShoutServerOptions> configure, LogCapture? logs = null)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            configure(o);
        }, logs: logs);
        await server.Server.Services.GetRequiredService<NatsRoomBus>().Ready.WaitAsync(Patience);
        return server;
    }
}
