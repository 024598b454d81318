using System.Text;
using Shout.Rooms;

namespace Shout.Tests.Rooms;

/// <summary>A member's queue of shared runs of lines: bounded in lines, cut only at line boundaries.</summary>
public sealed class MemberQueueTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_run_that_does_not_fit_whole_keeps_the_lines_that_fit()
    {
        var queue = new MemberQueue(3);
        Assert.Equal(2, queue.TryAdd(Bytes("a\nb\n"), 2));
        Assert.Equal(1, queue.TryAdd(Bytes("c\nd\ne\n"), 3));
        Assert.Equal(0, queue.TryAdd(Bytes("f\n"), 1));
        Assert.Equal(["a\nb\n", "c\n"], TakeAll(queue));
        Assert.Equal(0, queue.Lines);
    }

    [Fact]
    public void Drop_oldest_cuts_the_front_of_the_oldest_run_and_counts_the_lines()
    {
        var queue = new MemberQueue(4);
        Assert.Equal(0, queue.AddDroppingOldest(Bytes("1\n2\n3\n"), 3));
        Assert.Equal(1, queue.AddDroppingOldest(Bytes("4\n5\n"), 2));
        Assert.Equal(4, queue.Lines);
        Assert.Equal(3, queue.AddDroppingOldest(Bytes("6\n7\n8\n"), 3));
        Assert.Equal(["5\n", "6\n7\n8\n"], TakeAll(queue));
    }

    [Fact]
    public void Drop_oldest_keeps_the_newest_lines_of_a_run_longer_than_the_queue()
    {
        var queue = new MemberQueue(2);
        queue.AddDroppingOldest(Bytes("0\n"), 1);
        Assert.Equal(2, queue.AddDroppingOldest(Bytes("1\n2\n3\n"), 3));
        Assert.Equal(["2\n3\n"], TakeAll(queue));
    }

    [Fact]
    public async Task The_reader_wakes_for_a_run_and_ends_when_completed_and_empty()
    {
        var queue = new MemberQueue(4);
        var waiting = queue.WaitToReadAsync().AsTask();
        Assert.False(waiting.IsCompleted);
        queue.TryAdd(Bytes("x\n"), 1);
        Assert.True(await waiting.WaitAsync(Limit));
        Assert.Equal(["x\n"], TakeAll(queue));

        var ending = queue.WaitToReadAsync().AsTask();
        queue.Complete(discard: false);
        Assert.False(await ending.WaitAsync(Limit));
        Assert.Equal(0, queue.TryAdd(Bytes("late\n"), 1));
    }

    [Fact]
    public async Task Completing_keeps_what_is_queued_unless_discarded()
    {
        var kept = new MemberQueue(4);
        kept.TryAdd(Bytes("a\n"), 1);
        kept.Complete(discard: false);
        Assert.True(await kept.WaitToReadAsync().AsTask().WaitAsync(Limit));
        Assert.Equal(["a\n"], TakeAll(kept));
        Assert.False(await kept.WaitToReadAsync().AsTask().WaitAsync(Limit));

        var discarded = new MemberQueue(4);
        discarded.TryAdd(Bytes("a\n"), 1);
        discarded.Complete(discard: true);
        Assert.False(await discarded.WaitToReadAsync().AsTask().WaitAsync(Limit));
    }

    [Fact]
    public async Task An_answer_that_does_not_fit_goes_in_first_as_the_reader_makes_room()
    {
        var queue = new MemberQueue(2);
        Assert.Equal(2, queue.TryAdd(Bytes("a\nb\n"), 2));
        var answer = queue.AddAnswer(Bytes("A\nB\nC\n"), 3);
        Assert.NotNull(answer);
        Assert.False(answer.IsCompleted);

        // Room made by the reader is the answer's: another member's line does not take it.
        Assert.True(queue.TryTake(out _));
        Assert.Equal(0, queue.TryAdd(Bytes("x\n"), 1));
        Assert.False(answer.IsCompleted);
        Assert.Equal(["A\nB\n", "C\n"], TakeAll(queue));
        Assert.True(await answer.WaitAsync(Limit));
        Assert.Null(queue.AddAnswer(Bytes("D\n"), 1));
    }

    [Fact]
    public async Task A_waiting_answer_is_refused_when_the_queue_completes()
    {
        var queue = new MemberQueue(1);
        queue.TryAdd(Bytes("a\n"), 1);
        var answer = queue.AddAnswer(Bytes("A\n"), 1);
        Assert.NotNull(answer);
        queue.Complete(discard: true);
        Assert.False(await answer.WaitAsync(Limit));
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.ASCII.GetBytes(text);

    private static List<string> TakeAll(MemberQueue queue)
    {
        var taken = new List<string>();
        while (queue.TryTake(out var lines))
        {
            taken.Add(Encoding.ASCII.GetString(lines.Span));
        }

        return taken;
    }
}
