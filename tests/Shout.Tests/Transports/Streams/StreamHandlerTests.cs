using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shout.Hosting;
using Shout.Protocols.Framing;
using Shout.Protocols;
using Shout.Rooms.Bus;
using Shout.Rooms;
using Shout.Sessions;
using Shout.Tests.Rooms;
using Shout.Transports.Streams;

namespace Shout.Tests.Transports.Streams;

/// <summary>
/// The stream seam's receive loop (<see cref="ShoutConnectionHandler"/>) over in-memory pipes: what a
/// client is answered and the one reason each session closes with, with no socket and a fake clock.
/// </summary>
public sealed class StreamHandlerTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new();
    private readonly TestMeters _meters = new();
    private readonly ConnectionEventLog _events = new(TimeProvider.System);
    private readonly DrainSignal _drain = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Stream_mode_answers_each_read_uppercased_and_a_half_close_ends_the_session_as_the_clients()
    {
        await using var client = Start(ShoutMode.Stream, new SessionSettings());

        await client.SendAsync("hello world");
        Assert.Equal("HELLO WORLD", await client.ReceiveAsync(11));

        await client.Input.CompleteAsync();
        Assert.Equal(CloseReason.ClientClosed, await client.ClosedAsync());
    }

    [Fact]
    public async Task Line_mode_answers_whole_lines_only_and_quit_is_answered_then_ends_the_session()
    {
        await using var client = Start(ShoutMode.Line, new SessionSettings());

        await client.SendAsync("one\ntw");
        Assert.Equal("ONE\n", await client.ReceiveAsync(4));
        await client.SendAsync("o\nquit\nnever answered\n");

        Assert.Equal("TWO\n", await client.ReceiveAsync(4));
        Assert.Equal(CloseReason.Quit, await client.ClosedAsync());
        Assert.Equal("QUIT\n", await client.ReceiveRestAsync());
    }

    [Fact]
    public async Task An_unfinished_line_past_the_line_timeout_is_refused_not_answered()
    {
        await using var client = Start(ShoutMode.Line, new SessionSettings { LineTimeout = TimeSpan.FromSeconds(5) });

        // The reply to "x" proves the same read's unfinished "abc" was seen, so its deadline runs.
        await client.SendAsync("x\nabc");
        Assert.Equal("X\n", await client.ReceiveAsync(2));
        await client.PassAsync(_clock, TimeSpan.FromSeconds(5.01));

        Assert.Equal(CloseReason.LineTimeout, await client.ClosedAsync());
        Assert.Equal("ERR line timeout\n", await client.ReceiveRestAsync());
    }

    [Fact]
    public async Task A_drain_answers_what_was_sent_then_tells_a_line_client_to_quit()
    {
        await using var client = Start(ShoutMode.Line, new SessionSettings());

        await client.SendAsync("last\n");
        Assert.Equal("LAST\n", await client.ReceiveAsync(5));
        _drain.Begin();

        Assert.Equal(CloseReason.ServerDrain, await client.ClosedAsync());
        Assert.Equal("QUIT\n", await client.ReceiveRestAsync());
    }

    [Fact]
    public async Task The_drain_reaches_every_open_session_and_one_opened_after_it_began_and_a_closed_session_leaves_its_list()
    {
        await using var gone = Start(ShoutMode.Line, new SessionSettings());
        await gone.SendAsync("bye\n");
        Assert.Equal("BYE\n", await gone.ReceiveAsync(4));
        await gone.Input.CompleteAsync();
        Assert.Equal(CloseReason.ClientClosed, await gone.ClosedAsync());

        var open = new[] { Start(ShoutMode.Line, new SessionSettings()), Start(ShoutMode.Stream, new SessionSettings()) };
        Assert.Equal(2, _drain.Members);
        _drain.Begin();
        Assert.Equal(0, _drain.Members);
        await using var late = Start(ShoutMode.Line, new SessionSettings());

        foreach (var client in open.Append(late))
        {
            Assert.Equal(CloseReason.ServerDrain, await client.ClosedAsync());
            await client.DisposeAsync();
        }

        Assert.Equal("QUIT\n", await late.ReceiveRestAsync());
    }

    [Fact]
    public async Task An_over_long_line_is_a_protocol_error_that_closes_only_its_session()
    {
        await using var client = Start(ShoutMode.Line, new SessionSettings(), maxLine: 8);

        await client.SendAsync("0123456789abcdef\n");

        Assert.Equal(CloseReason.ProtocolError, await client.ClosedAsync());
        Assert.StartsWith("ERR ", await client.ReceiveRestAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Room_mode_runs_on_the_same_loop_a_drain_answers_what_was_sent_then_says_QUIT_through_the_members_queue()
    {
        await using var client = Start(RoomProtocol(), new SessionSettings());

        await client.SendAsync("last\n");
        Assert.Contains("LAST", await client.ReceiveUntilAsync("LAST"), StringComparison.Ordinal);
        _drain.Begin();

        Assert.Equal(CloseReason.ServerDrain, await client.ClosedAsync());
        Assert.Equal("QUIT\n", await client.ReceiveRestAsync());
    }

    [Fact]
    public async Task Room_mode_says_why_it_closes_for_idle()
    {
        await using var client = Start(RoomProtocol(), new SessionSettings { IdleTimeout = TimeSpan.FromSeconds(5) });

        await client.ReceiveUntilAsync("you are");
        _clock.Advance(TimeSpan.FromSeconds(5.01));

        Assert.Equal(CloseReason.IdleTimeout, await client.ClosedAsync());
        Assert.StartsWith("* closed: idle for 5s", await client.ReceiveRestAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Room_mode_refuses_an_unfinished_line_past_the_line_timeout()
    {
        await using var client = Start(RoomProtocol(), new SessionSettings { LineTimeout = TimeSpan.FromSeconds(5) });

        await client.SendAsync("x\nabc");
        await client.ReceiveUntilAsync("X");
        await client.PassAsync(_clock, TimeSpan.FromSeconds(5.01));

        Assert.Equal(CloseReason.LineTimeout, await client.ClosedAsync());
        Assert.Equal("ERR line timeout\n", await client.ReceiveRestAsync());
    }

    private RoomProtocols RoomProtocol() =>
        new(new RoomHub(new InProcessRoomBus(), new RoomMetrics(_meters)), new ShoutRoomOptions(), 1024, _clock);

    private Client Start(ShoutMode mode, SessionSettings settings, int maxLine = 1024) =>
        Start(new FramedProtocol.Factory(mode == ShoutMode.Line ? new LineFramer(maxLine) : StreamFramer.Instance), settings);

    private Client Start(IProtocolFactory protocol, SessionSettings settings)
    {
        var metrics = new ShoutMetrics(_meters);
        var lifecycle = new SessionLifecycle(metrics, _events, NullLogger<SessionLifecycle>.Instance);
        var handler = new ShoutConnectionHandler(protocol, new SessionRules(settings), new SessionRunner(lifecycle), metrics, _clock, _drain);
        var connection = new MemoryConnection();
        return new Client(connection, handler.OnConnectedAsync(connection, TransportKind.Tcp), _events);
    }

    private sealed class Client(MemoryConnection connection, Task served, ConnectionEventLog events) : IAsyncDisposable
    {
        public MemoryConnection Connection => connection;

        public PipeWriter Input => connection.ClientInput.Writer;

        public async Task SendAsync(string text) => await Input.WriteAsync(Encoding.UTF8.GetBytes(text));

        public async Task<string> ReceiveAsync(int bytes)
        {
            using var timeout = new CancellationTokenSource(Wait);
            var reader = connection.ClientOutput.Reader;
            while (true)
            {
                var result = await reader.ReadAsync(timeout.Token);
                if (result.Buffer.Length >= bytes || result.IsCompleted)
                {
                    var taken = result.Buffer.Slice(0, Math.Min(bytes, result.Buffer.Length));
                    var text = Encoding.UTF8.GetString(taken);
                    reader.AdvanceTo(taken.End);
                    return text;
                }

                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }

        /// <summary>What the server sent up to and including the first line holding <paramref name="text"/>.</summary>
        public async Task<string> ReceiveUntilAsync(string text)
        {
            using var timeout = new CancellationTokenSource(Wait);
            var reader = connection.ClientOutput.Reader;
            while (true)
            {
                var result = await reader.ReadAsync(timeout.Token);
                var seen = Encoding.UTF8.GetString(result.Buffer);
                var at = seen.IndexOf(text, StringComparison.Ordinal);
                var end = at < 0 ? -1 : seen.IndexOf('\n', at);
                if (end >= 0)
                {
                    reader.AdvanceTo(result.Buffer.GetPosition(Encoding.UTF8.GetByteCount(seen.AsSpan(0, end + 1))));
                    return seen[..(end + 1)];
                }

                Assert.False(result.IsCompleted, $"the output ended without {text}: {seen}");
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }

        /// <summary>Everything the server sent until it completed its output.</summary>
        public async Task<string> ReceiveRestAsync() => await ReceiveAsync(int.MaxValue);

        /// <summary>
        /// Moves the fake clock past a deadline the session arms as it handles the read the test
        /// just saw answered. The loop arms the line deadline right after the protocol answered, so
        /// the answer can reach the test first (in room mode a writer task sends it), and a deadline
        /// armed after the move runs from then: until the session ends (at most the test's wait),
        /// the clock is moved by <paramref name="span"/> again, which passes any deadline armed since.
        /// </summary>
        public async Task PassAsync(FakeTimeProvider clock, TimeSpan span)
        {
            using var timeout = new CancellationTokenSource(Wait);
            while (!served.IsCompleted)
            {
                clock.Advance(span);
                await Task.WhenAny(served, Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token));
                timeout.Token.ThrowIfCancellationRequested();
            }
        }

        /// <summary>Waits for the session to end; its one recorded close reason.</summary>
        public async Task<CloseReason?> ClosedAsync()
        {
            await served.WaitAsync(Wait);
            await connection.Transport.Output.CompleteAsync();
            return events.Latest().Single(e => e.Kind == ConnectionEventKind.Closed && e.ConnectionId == connection.ConnectionId).Reason;
        }

        public async ValueTask DisposeAsync()
        {
            await Input.CompleteAsync();
            await served.WaitAsync(Wait);
        }
    }
}
