using System.Collections.Concurrent;
using System.Text;
using Shout.Rooms;
using Shout.Rooms.Bus;

namespace Shout.Tests.Rooms.Bus;

/// <summary>
/// Exactly once's publisher: one message in flight per sender and in order, what a sender said
/// meanwhile merged into its next message (numbered by its last line), senders side by side, and
/// the outbox bounded.
/// </summary>
public sealed class StoredOutboxTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly Guid Instance = Guid.NewGuid();

    [Fact]
    public async Task A_senders_messages_go_one_at_a_time_in_order_and_what_waited_goes_as_one()
    {
        var publisher = new GatedPublisher();
        using var outbox = new StoredOutbox(publisher.PublishAsync);

        await outbox.AddAsync(Said(1, 1, "a: ONE\n"));
        var first = await publisher.NextAsync();
        await outbox.AddAsync(Said(1, 2, "a: TWO\n"));
        await outbox.AddAsync(Said(1, 4, "a: THREE\na: FOUR\n"));

        // Nothing more of that sender goes while its first waits for its acknowledgement.
        Assert.Equal(1, publisher.InFlight);
        first.Ack();

        var merged = await publisher.NextAsync();
        Assert.Equal(4, merged.Message.Sequence);
        Assert.Equal("a: TWO\na: THREE\na: FOUR\n", Encoding.UTF8.GetString(merged.Message.Payload.Span));
        merged.Ack();
        await outbox.CompletedAsync().WaitAsync(Patience);

        Assert.Equal([1L, 4L], publisher.Sequences(1));
        Assert.Equal(2, outbox.Published);
    }

    [Fact]
    public async Task Different_senders_wait_for_their_acknowledgements_side_by_side()
    {
        var publisher = new GatedPublisher();
        using var outbox = new StoredOutbox(publisher.PublishAsync);

        await outbox.AddAsync(Said(1, 1, "a: X\n"));
        await outbox.AddAsync(Said(2, 1, "b: Y\n"));
        var one = await publisher.NextAsync();
        var two = await publisher.NextAsync();

        Assert.Equal(2, publisher.InFlight);
        Assert.NotEqual(one.Message.Sender, two.Message.Sender);
        one.Ack();
        two.Ack();
        await outbox.CompletedAsync().WaitAsync(Patience);
    }

    [Fact]
    public async Task The_outbox_is_bounded_and_adding_waits_for_room()
    {
        var publisher = new GatedPublisher();
        using var outbox = new StoredOutbox(publisher.PublishAsync, maxWaiting: 2);

        await outbox.AddAsync(Notice(1, 1));
        var first = await publisher.NextAsync();
        await outbox.AddAsync(Notice(1, 2));
        var third = outbox.AddAsync(Notice(1, 3)).AsTask();

        // Two wait (one in flight): the third is not taken until one is acknowledged.
        Assert.False(third.IsCompleted);
        first.Ack();
        await third.WaitAsync(Patience);
        (await publisher.NextAsync()).Ack();
        (await publisher.NextAsync()).Ack();
        await outbox.CompletedAsync().WaitAsync(Patience);

        // Notices are never merged: one message each, in order.
        Assert.Equal([1L, 2L, 3L], publisher.Sequences(1));
    }

    [Theory]
    [InlineData("notice")]
    [InlineData("gap")]
    [InlineData("other room")]
    [InlineData("renamed")]
    [InlineData("too long")]
    [InlineData("too many lines")]
    public void Only_lines_said_one_after_the_other_in_one_room_under_one_name_are_merged(string why)
    {
        var first = Said(1, 1, "a: ONE\n");
        var later = why switch
        {
            "notice" => Notice(1, 2),
            "gap" => Said(1, 3, "a: THREE\n"),
            "other room" => Said(1, 2, "a: TWO\n") with { Room = "den" },
            "renamed" => Said(1, 2, "b: TWO\n") with { Nick = "b" },
            "too long" => Said(1, 2, "a: " + new string('x', StoredOutbox.MaxMerged) + "\n"),
            _ => Said(1, 1 + RoomBatch.MaxLines, string.Concat(Enumerable.Repeat("a: X\n", RoomBatch.MaxLines))),
        };

        Assert.False(StoredOutbox.TryMerge(first, later, out _));
        Assert.True(StoredOutbox.TryMerge(first, Said(1, 2, "a: TWO\n"), out var merged));
        Assert.Equal(2, merged.Sequence);
    }

    private static BusMessage Said(long sender, long sequence, string lines) =>
        new(Instance, sender, sequence, BusKind.Line, BusShape.Said, "lobby", "a", "", Encoding.UTF8.GetBytes(lines));

    private static BusMessage Notice(long sender, long sequence) =>
        new(Instance, sender, sequence, BusKind.Line, BusShape.Joined, "lobby", "a", "", default);

    /// <summary>A stream that acknowledges a message only when the test says so.</summary>
    private sealed class GatedPublisher
    {
        private readonly System.Threading.Channels.Channel<Pending> _sent = System.Threading.Channels.Channel.CreateUnbounded<Pending>();
        private readonly ConcurrentQueue<BusMessage> _published = new();
        private int _inFlight;

        public int InFlight => Volatile.Read(ref _inFlight);

        public async Task PublishAsync(BusMessage message)
        {
            Interlocked.Increment(ref _inFlight);
            var pending = new Pending(message);
            _sent.Writer.TryWrite(pending);
            await pending.Acked.Task;
            Interlocked.Decrement(ref _inFlight);
            _published.Enqueue(message);
        }

        public async Task<Pending> NextAsync()
        {
            using var deadline = new CancellationTokenSource(Patience);
            return await _sent.Reader.ReadAsync(deadline.Token);
        }

        public List<long> Sequences(long sender) => [.. _published.Where(m => m.Sender == sender).Select(m => m.Sequence)];
    }

    private sealed record Pending(BusMessage Message)
    {
        public TaskCompletionSource Acked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Ack() => Acked.SetResult();
    }
}
