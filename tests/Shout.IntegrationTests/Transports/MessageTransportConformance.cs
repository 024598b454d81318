using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.Text;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The protocol contract (DESIGN §2) on the message seam, written once for WebSocket messages and
/// UDP datagrams: one message in, its uppercase out, as one message. Each subclass names the
/// transport; the clients are the test's own (<see cref="System.Net.WebSockets.ClientWebSocket"/>,
/// a UDP <see cref="System.Net.Sockets.Socket"/>), not the CLI's.
/// </summary>
public abstract class MessageTransportConformance
{
    internal abstract MatrixTransport Transport { get; }

    /// <summary>The largest message the transport takes whole (WebSocket: the configured limit; UDP: 65,507).</summary>
    protected abstract int MaxMessage { get; }

    /// <summary>Server settings the subclass needs (the WebSocket message limit).</summary>
    protected virtual void Configure(ShoutServerOptions options)
    {
    }

    /// <summary>Sends one message; WebSocket as text or binary, UDP ignores <paramref name="text"/>.</summary>
    internal abstract Task SendMessageAsync(MatrixClient client, byte[] message, bool text);

    /// <summary>Receives one whole message and checks it has the type sent (WebSocket).</summary>
    internal abstract Task<byte[]> ReceiveMessageAsync(MatrixClient client, bool text);

    [Fact]
    public async Task Round_trip()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        await SendMessageAsync(client, "hello world"u8.ToArray(), text: true);
        Assert.Equal("HELLO WORLD", Encoding.UTF8.GetString(await ReceiveMessageAsync(client, text: true)));
    }

    [Fact]
    public async Task Every_Unicode_sample_comes_back_uppercased_as_the_tutorial_answers()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        foreach (var (input, expected) in UnicodeSamples.Table)
        {
            await SendMessageAsync(client, Encoding.UTF8.GetBytes(input), text: true);
            Assert.Equal(expected, Encoding.UTF8.GetString(await ReceiveMessageAsync(client, text: true)));
        }

        foreach (var sample in UnicodeSamples.Tricky)
        {
            var bytes = Encoding.UTF8.GetBytes(sample);
            await SendMessageAsync(client, bytes, text: true);
            Assert.Equal(ShoutCase.ToUpper(bytes), await ReceiveMessageAsync(client, text: true));
        }

        // All of them in one message: the answer is the same as piece by piece.
        var all = Encoding.UTF8.GetBytes(string.Concat(UnicodeSamples.Tricky) + string.Concat(UnicodeSamples.Table.Select(t => t.Input)));
        await SendMessageAsync(client, all, text: true);
        Assert.Equal(Encoding.UTF8.GetBytes(string.Concat(UnicodeSamples.Tricky.Select(s => Encoding.UTF8.GetString(ShoutCase.ToUpper(Encoding.UTF8.GetBytes(s)))))
            + string.Concat(UnicodeSamples.Table.Select(t => t.Expected))), await ReceiveMessageAsync(client, text: true));
    }

    [Fact]
    public async Task Bytes_that_are_not_UTF8_pass_through_unchanged_in_a_binary_message()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        foreach (var invalid in UnicodeSamples.Invalid)
        {
            byte[] message = [(byte)'x', .. invalid, (byte)'y'];
            await SendMessageAsync(client, message, text: false);

            // Every byte here that is not an ASCII letter is part of no valid character: unchanged.
            var expected = message.Select(b => b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b).ToArray();
            Assert.Equal(expected, await ReceiveMessageAsync(client, text: false));
        }
    }

    [Fact]
    public async Task A_message_at_the_size_limit_is_answered_whole()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        var message = Enumerable.Repeat((byte)'a', MaxMessage).ToArray();
        await SendMessageAsync(client, message, text: false);
        var reply = await ReceiveMessageAsync(client, text: false);
        Assert.Equal(MaxMessage, reply.Length);
        Assert.All(reply, b => Assert.Equal((byte)'A', b));

        // And the connection (or peer) is still served.
        await SendMessageAsync(client, "after"u8.ToArray(), text: true);
        Assert.Equal("AFTER", Encoding.UTF8.GetString(await ReceiveMessageAsync(client, text: true)));
    }

    [Fact]
    public async Task Many_messages_come_back_in_order()
    {
        const int count = 500;
        const int window = 10;
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        for (var start = 0; start < count; start += window)
        {
            // A window in flight: the answers must come in the order sent (UDP on loopback keeps it).
            for (var i = start; i < start + window; i++)
            {
                await SendMessageAsync(client, Encoding.UTF8.GetBytes($"message {i} ȿ"), text: true);
            }

            for (var i = start; i < start + window; i++)
            {
                Assert.Equal($"MESSAGE {i} \u2C7E", Encoding.UTF8.GetString(await ReceiveMessageAsync(client, text: true)));
            }
        }
    }

    [Fact]
    public async Task Fifty_concurrent_clients_each_get_their_own_answers()
    {
        await using var server = await StartAsync();
        var clients = Enumerable.Range(0, 50).Select(async i =>
        {
            await using var client = await Transport.OpenAsync(server);
            for (var k = 0; k < 5; k++)
            {
                var message = Encoding.UTF8.GetBytes($"client {i} message {k}: straße ȿ {new string('x', i * 37)}");
                await SendMessageAsync(client, message, text: true);
                Assert.Equal(ShoutCase.ToUpper(message), await ReceiveMessageAsync(client, text: true));
            }

            await client.CloseAsync();
        });
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
    }

    internal Task<TestServer> StartAsync(Action<ShoutServerOptions>? configure = null, LogCapture? logs = null) =>
        Transport.StartAsync(o =>
        {
            Configure(o);
            configure?.Invoke(o);
        }, logs);
}
