using System.Net.Sockets;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Rooms;
using Shout.Sessions;

namespace Shout.IntegrationTests.Rooms;

/// <summary>Reliability row 24: a member that never reads never slows the room.</summary>
public sealed class SlowMemberTests
{
    private const int Lines = 3000;

    // Lines of the sender's own answers and of the reader's that may be outstanding (queues hold 64).
    private const int Window = 16;

    // Lines long enough that the whole conversation (12 MB) outgrows what the stalled member's socket
    // buffers can hold (a few MB on loopback), so its queue must fill.
    private static readonly string Padding = new('x', 4000);

    [Fact]
    public async Task A_member_that_never_reads_is_kicked_while_the_others_get_every_line()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.WriteTimeout = TimeSpan.FromSeconds(1);
            o.Rooms.QueueLength = 64;
        });
        using var stalled = await ConnectNonReaderAsync(server);
        await using var sender = await RoomClient.JoinAsync(server.Endpoint, "sender");
        await using var reader = await RoomClient.JoinAsync(server.Endpoint, "reader");

        Assert.Equal(Lines, await SendAllAsync(sender, reader));
        await KickedAndTheRoomGoesOnAsync(server, sender, reader, "tcp4");
    }

    /// <summary>
    /// The same over each transport a member can hold a connection on: the stalled member dials that
    /// transport (the matrix's own client, 4 KiB receive buffer), the sender and the reader TCP.
    /// UDP has no such row: a datagram to a member is never held for it (row 3).
    /// </summary>
    [Theory]
    [InlineData("tcp6")]
    [InlineData("unix")]
    [InlineData("tls")]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Row24_a_member_that_never_reads_over_any_transport_is_kicked_while_the_others_get_every_line(string name)
    {
        var transport = Matrix.MatrixTransport.Named(name);
        await using var server = await transport.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.WriteTimeout = TimeSpan.FromSeconds(1);
            o.Rooms.QueueLength = 64;
            if (!transport.IsWebSocket)
            {
                o.Listen.Add(Shout.Endpoints.ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
            }
        });
        var tcp = server.Server.Endpoints.First(e => e.Transport == Shout.Endpoints.ShoutTransport.Tcp && e.Host == "127.0.0.1");
        await using var stalled = await transport.OpenAsync(server);
        stalled.RawSocket.ReceiveBufferSize = 4096;
        await stalled.SendAsync("/nick stalled\n"u8.ToArray());
        await Eventually.TrueAsync(() => server.Server.Services.GetRoomMetrics().Members == 1, TimeSpan.FromSeconds(10), () => "stalled member not in");
        await using var sender = await RoomClient.JoinAsync(tcp, "sender");
        await using var reader = await RoomClient.JoinAsync(tcp, "reader");

        Assert.Equal(Lines, await SendAllAsync(sender, reader));
        await KickedAndTheRoomGoesOnAsync(server, sender, reader, name);
    }

    [Fact]
    public async Task With_drop_a_member_that_does_not_read_loses_its_oldest_lines_counted_and_stays()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Room;
            o.Rooms.SlowMember = SlowMemberPolicy.Drop;
            o.Rooms.QueueLength = 64;
        });
        using var stalled = await ConnectNonReaderAsync(server);
        await using var sender = await RoomClient.JoinAsync(server.Endpoint, "sender");
        await using var reader = await RoomClient.JoinAsync(server.Endpoint, "reader");

        Assert.Equal(Lines, await SendAllAsync(sender, reader));
        var rooms = server.Server.Services.GetRoomMetrics();
        Assert.True(rooms.Drops > 0, "the stalled member's oldest lines were dropped and counted");
        Assert.Equal(0, rooms.Kicks);
        Assert.Equal(3, rooms.Members);

        // Now it reads: what it gets is in order, with a gap where lines were dropped, ending with the newest.
        var numbers = new List<int>();
        var text = new StringBuilder();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (numbers.Count == 0 || numbers[^1] != Lines - 1)
        {
            var read = await stalled.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            Assert.True(read > 0, "the stalled member was closed");
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
            var whole = text.ToString();
            var end = whole.LastIndexOf('\n');
            foreach (var line in whole[..(end + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith("sender: ", StringComparison.Ordinal))
                {
                    numbers.Add(int.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            text.Remove(0, end + 1);
        }

        Assert.True(numbers.Count < Lines, $"got all {numbers.Count} lines: nothing was dropped");
        Assert.Equal(numbers.Order(), numbers);
        Assert.Equal(numbers.Count, numbers.Distinct().Count());
    }

    /// <summary>The stalled member was kicked once, its lines that did not fit counted, and the other two still talk.</summary>
    private static async Task KickedAndTheRoomGoesOnAsync(TestServer server, RoomClient sender, RoomClient reader, string name)
    {
        await Eventually.TrueAsync(() => server.Metrics.ClosedFor(CloseReason.SlowMember) == 1, TimeSpan.FromSeconds(30),
            () => $"{name}: kicks {server.Server.Services.GetRoomMetrics().Kicks}, closed for slow_member {server.Metrics.ClosedFor(CloseReason.SlowMember)}");
        var rooms = server.Server.Services.GetRoomMetrics();
        Assert.Equal(1, rooms.Kicks);
        Assert.True(rooms.Drops > 0, "lines that did not fit the stalled member's queue are counted");
        Assert.Equal(2, rooms.Members);

        // The room goes on after the kick.
        await sender.SendAsync("after");
        Assert.Equal("sender: AFTER", await reader.ReadUntilAsync(l => l.EndsWith("AFTER", StringComparison.Ordinal)));
    }

    /// <summary>
    /// Sends every line at the pace of members that read: at most <see cref="Window"/> of the sender's
    /// own answers and of the reader's lines are outstanding, so neither queue comes near its limit
    /// (64) however the scheduler runs their writers, and only the stalled member's queue can fill.
    /// (One line at a time took about 4 ms a line, the room's writer gathering for a millisecond or two.)
    /// Checks the order of both; returns how many lines the reader got.
    /// </summary>
    private static async Task<int> SendAllAsync(RoomClient sender, RoomClient reader)
    {
        using var read = new SemaphoreSlim(Window);
        using var answered = new SemaphoreSlim(Window);
        var reading = ReadInOrderAsync(reader, "sender: ", () => read.Release());
        var answers = ReadInOrderAsync(sender, "", () => answered.Release());
        for (var i = 0; i < Lines; i++)
        {
            Assert.True(await read.WaitAsync(TimeSpan.FromSeconds(30)), $"the reader got no line for 30 s (at {i})");
            Assert.True(await answered.WaitAsync(TimeSpan.FromSeconds(30)), $"the sender got no answer for 30 s (at {i})");
            await sender.SendAsync($"{i} {Padding}");
        }

        Assert.Equal(Lines, await answers);
        return await reading;
    }


    /// <summary>A member with a small receive buffer that never reads.</summary>
    private static async Task<Socket> ConnectNonReaderAsync(TestServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.Endpoint.Port), timeout.Token);
        await socket.SendAsync("/nick stalled\n"u8.ToArray(), SocketFlags.None, timeout.Token);
        await Eventually.TrueAsync(() => server.Server.Services.GetRoomMetrics().Members == 1, TimeSpan.FromSeconds(10), () => "stalled member not in");
        return socket;
    }

    /// <summary>
    /// The numbered lines after <paramref name="prefix"/> (<c>sender: N XXXX…</c> for the reader, the
    /// sender's own answers <c>N XXXX…</c> with none), checked to come 0, 1, 2 … in order; others skipped. Returns how many.
    /// </summary>
    private static async Task<int> ReadInOrderAsync(RoomClient client, string prefix, Action each)
    {
        var next = 0;
        while (next < Lines)
        {
            var line = await client.ReadLineAsync();
            var space = line.IndexOf(' ', prefix.Length);
            if (!line.StartsWith(prefix, StringComparison.Ordinal) || space <= prefix.Length
                || !int.TryParse(line.AsSpan(prefix.Length, space - prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                continue;
            }

            Assert.Equal(next, number);
            next++;
            each();
        }

        return next;
    }
}
