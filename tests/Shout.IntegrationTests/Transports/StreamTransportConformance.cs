using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Shout.Client;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;
using Shout.Text;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The contract every stream transport keeps, written once: each subclass names a listen address
/// (and how a client must dial it), and inherits every test. The client side is the library's own
/// <see cref="ShoutConnection"/>, so the dialer of each transport is tested with it.
/// </summary>
public abstract class StreamTransportConformance
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Where the server listens, e.g. <c>tcp://127.0.0.1:0</c>.</summary>
    protected abstract string Listen { get; }

    /// <summary>How a client dials this transport's server (TLS pins the server's certificate).</summary>
    protected virtual ShoutClientOptions ClientOptions(ShoutServer server) => new();

    [Fact]
    public async Task Round_trip()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server);
        await client.Stream.WriteAsync("hello world"u8.ToArray());
        await client.Stream.FlushAsync();
        Assert.Equal("HELLO WORLD", Encoding.UTF8.GetString(await ReadExactlyAsync(client, 11)));
    }

    [Fact]
    public async Task One_MiB_payload_comes_back_uppercased_while_it_is_still_being_sent()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server);
        var payload = MixedPayload(1024 * 1024, seed: 3);

        // Sending and receiving at once: the server answers as it reads, so a sender that does not
        // read would stall on full buffers long before 1 MiB.
        var send = Task.Run(async () =>
        {
            for (var offset = 0; offset < payload.Length; offset += 48 * 1024)
            {
                await client.Stream.WriteAsync(payload.AsMemory(offset, Math.Min(48 * 1024, payload.Length - offset)));
            }

            await client.Stream.FlushAsync();
            await client.HalfCloseAsync();
        });
        var reply = await ReadToEndAsync(client);
        await send.WaitAsync(Deadline);
        Assert.Equal(ShoutCase.ToUpper(payload), reply);
    }

    [Fact]
    public async Task Split_writes_and_UTF8_characters_sent_byte_by_byte_come_back_whole()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server);
        var input = Encoding.UTF8.GetBytes("aȿ😀ı ɐ hello ß\n");
        foreach (var b in input)
        {
            await client.Stream.WriteAsync(new[] { b });
            await client.Stream.FlushAsync();
        }

        await client.HalfCloseAsync();
        Assert.Equal(ShoutCase.ToUpper(input), await ReadToEndAsync(client));
    }

    [Fact]
    public async Task Every_Unicode_sample_comes_back_uppercased_as_the_tutorial_answers()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server);
        foreach (var (input, expected) in UnicodeSamples.Table)
        {
            await client.Stream.WriteAsync(Encoding.UTF8.GetBytes(input));
            await client.Stream.FlushAsync();
            Assert.Equal(expected, Encoding.UTF8.GetString(await ReadExactlyAsync(client, Encoding.UTF8.GetByteCount(expected))));
        }
    }

    [Fact]
    public async Task Bytes_that_are_not_UTF8_pass_through_unchanged()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server);
        foreach (var invalid in UnicodeSamples.Invalid)
        {
            byte[] message = [(byte)'x', .. invalid, (byte)'y'];
            await client.Stream.WriteAsync(message);
            await client.Stream.FlushAsync();

            // Every byte here that is not an ASCII letter is part of no valid character: unchanged.
            Assert.Equal(message.Select(b => b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b).ToArray(), await ReadExactlyAsync(client, message.Length));
        }
    }

    [Fact]
    public async Task Line_mode_a_line_at_the_limit_is_answered_and_one_past_it_gets_the_error_and_the_close()
    {
        const int limit = 1000;
        await using var server = await StartAsync(o =>
        {
            o.Mode = ShoutMode.Line;
            o.MaxLineLength = limit;
        });
        await using (var client = await ConnectAsync(server))
        {
            await client.Stream.WriteAsync(Encoding.ASCII.GetBytes(new string('a', limit) + "\n"));
            await client.Stream.FlushAsync();
            Assert.Equal(new string('A', limit) + "\n", Encoding.ASCII.GetString(await ReadExactlyAsync(client, limit + 1)));
        }

        await using (var client = await ConnectAsync(server))
        {
            await client.Stream.WriteAsync(Encoding.ASCII.GetBytes(new string('a', limit + 1) + "\n"));
            await client.Stream.FlushAsync();
            Assert.Equal($"ERR line too long (max {limit} bytes)\n", Encoding.ASCII.GetString(await ReadToEndAsync(client)));
        }

        await server.WaitForNoConnectionsAsync();
        Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.ProtocolError));
    }

    [Fact]
    public async Task Half_close_after_hello_without_newline_gets_HELLO_then_the_close()
    {
        await using var server = await StartAsync();
        await using (var client = await ConnectAsync(server))
        {
            await client.Stream.WriteAsync("hello"u8.ToArray());
            await client.Stream.FlushAsync();
            await client.HalfCloseAsync();
            Assert.Equal("HELLO", Encoding.UTF8.GetString(await ReadToEndAsync(client)));
        }

        await server.WaitForNoConnectionsAsync();
    }

    [Fact]
    public async Task Fifty_concurrent_clients_each_get_their_own_answer()
    {
        await using var server = await StartAsync();
        var clients = Enumerable.Range(0, 50).Select(async i =>
        {
            await using var client = await ConnectAsync(server);
            var message = Encoding.UTF8.GetBytes($"client {i}: ȿ straße {new string('x', i * 37)}");
            await client.Stream.WriteAsync(message);
            await client.Stream.FlushAsync();
            await client.HalfCloseAsync();
            Assert.Equal(ShoutCase.ToUpper(message), await ReadToEndAsync(client));
        });
        await Task.WhenAll(clients).WaitAsync(Deadline);
        await server.WaitForNoConnectionsAsync();
        Assert.Equal(50, server.Metrics.AcceptedConnections);
    }

    [Fact]
    public async Task Clients_that_reset_mid_message_free_their_slot_quietly()
    {
        var logs = new LogCapture();
        await using var server = await StartAsync(logs: logs);
        for (var i = 0; i < 10; i++)
        {
            var client = await ConnectAsync(server);
            await client.Stream.WriteAsync(Encoding.UTF8.GetBytes(new string('a', 10_000) + "ȿ"));
            await client.Stream.FlushAsync();
            client.Abort();
            await client.DisposeAsync();
        }

        await server.WaitForNoConnectionsAsync();
        await using (var survivor = await ConnectAsync(server))
        {
            await survivor.Stream.WriteAsync("still here"u8.ToArray());
            await survivor.Stream.FlushAsync();
            await survivor.HalfCloseAsync();
            Assert.Equal("STILL HERE", Encoding.UTF8.GetString(await ReadToEndAsync(survivor)));
        }

        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }

    [Fact]
    public async Task Shutdown_drains_an_open_connection_and_closes_it_cleanly()
    {
        // A long shutdown timeout: a handler that ignored the drain request would hold the stop
        // for all of it and then be aborted (a reset), so a clean EOF well before proves the drain.
        var server = await StartAsync(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        await using var client = await ConnectAsync(server);
        await client.Stream.WriteAsync("abc"u8.ToArray());
        await client.Stream.FlushAsync();
        Assert.Equal("ABC", Encoding.UTF8.GetString(await ReadExactlyAsync(client, 3)));

        var stop = server.DisposeAsync().AsTask();
        Assert.Empty(await ReadToEndAsync(client));
        await stop.WaitAsync(Deadline);
    }

    private Task<TestServer> StartAsync(Action<ShoutServerOptions>? configure = null, LogCapture? logs = null) =>
        TestServer.StartAsync(configure, Listen, logs);

    private Task<ShoutConnection> ConnectAsync(TestServer server) =>
        ShoutConnection.ConnectAsync(server.Endpoint, ClientOptions(server.Server));

    private static async Task<byte[]> ReadExactlyAsync(ShoutConnection client, int count)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var buffer = new byte[count];
        await client.Stream.ReadExactlyAsync(buffer, deadline.Token);
        return buffer;
    }

    private static async Task<byte[]> ReadToEndAsync(ShoutConnection client)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var output = new MemoryStream();
        await client.Stream.CopyToAsync(output, deadline.Token);
        return output.ToArray();
    }

    /// <summary>ASCII with 2-, 3- and 4-byte characters (ȿ grows when uppercased) and some invalid bytes.</summary>
    internal static byte[] MixedPayload(int length, int seed)
    {
        var random = new Random(seed);
        string[] pieces = ["hello ", "world\n", "ȿ", "ɐ", "ß", "😀", "ı", "Ωmega ", "\u00ff"];
        var output = new MemoryStream(length + 8);
        while (output.Length < length)
        {
            if (random.Next(50) == 0)
            {
                output.WriteByte(0xFF);
                continue;
            }

            output.Write(Encoding.UTF8.GetBytes(pieces[random.Next(pieces.Length)]));
        }

        return output.ToArray()[..length];
    }
}
