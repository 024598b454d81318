using System.Buffers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Rooms;

namespace Shout.Tests.Rooms;

/// <summary>
/// Shared offsets, the pure parts: the epoch word (stream id and anchor), a room log numbered from
/// stream sequences (a join's new anchor, a resume numbering on from its anchor, lines counted
/// before the log, what is lost), and a member's own answers kept until its lines come back.
/// </summary>
public sealed class SharedOffsetsTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(61L)]
    [InlineData(62L)]
    [InlineData(123_456_789L)]
    [InlineData(SharedPositions.MaxAnchor)]
    public void An_epoch_is_eight_letters_and_digits_and_gives_its_anchor_back(long anchor)
    {
        var stream = SharedPositions.StreamId(DateTimeOffset.UnixEpoch.AddDays(20_000));
        var epoch = SharedPositions.Epoch(stream, anchor);
        Assert.Matches("^[A-Za-z0-9]{8}$", epoch);
        Assert.True(ResumeArguments.TryParse($"lobby 5 {epoch}", out _, out _, out var parsed));
        Assert.True(SharedPositions.TryAnchor(parsed, stream, out var back));
        Assert.Equal(anchor, back);
    }

    [Fact]
    public void Another_streams_epoch_or_a_made_up_word_names_no_anchor()
    {
        var stream = SharedPositions.StreamId(DateTimeOffset.UnixEpoch.AddDays(20_000));
        var other = stream == "zz" ? "yy" : "zz";
        Assert.False(SharedPositions.TryAnchor(other + "000001", stream, out _));
        Assert.False(SharedPositions.TryAnchor(stream + "00-001", stream, out _));
        Assert.False(SharedPositions.TryAnchor(stream + "0001", stream, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedPositions.Epoch(stream, SharedPositions.MaxAnchor + 1));
        Assert.NotEqual(SharedPositions.StreamId(DateTimeOffset.UnixEpoch.AddDays(20_000)), SharedPositions.StreamId(DateTimeOffset.UnixEpoch.AddDays(20_000).AddTicks(1)));
    }

    [Fact]
    public void A_join_gets_the_newest_lines_numbered_from_the_message_before_the_first_of_them()
    {
        var log = new RoomLog(0, coveredAfter: 9);
        Append(log, 10, "a: 1\na: 2\n");
        Append(log, 12, "b: 3\n");
        Append(log, 15, "a: 4\na: 5\n");

        // Three lines: the last of seq 12's and seq 15's; the anchor is seq 10, and seq 12's first line is 1.
        Assert.Equal(["* [1] b: 3", "* [2] a: 4", "* [3] a: 5"], Write(log, anchor: -1, before: 0, had: null, maxLines: 3, out var place));
        Assert.Equal(new SharedPlace(10, 3, 0, 3), place);

        // Two lines cut inside seq 15's entry: numbered from the message before it, the first one not given.
        Assert.Equal(["* [2] a: 5"], Write(log, -1, 0, null, maxLines: 1, out place));
        Assert.Equal(new SharedPlace(12, 2, 0, 1), place);

        // Nothing held: the position is after the last message.
        Assert.Empty(Write(new RoomLog(0, coveredAfter: 40), -1, 0, null, 3, out place));
        Assert.Equal(new SharedPlace(40, 0, 0, 0), place);
    }

    [Fact]
    public void A_resume_numbers_on_from_its_anchor_counting_the_lines_before_the_log()
    {
        var log = new RoomLog(0, coveredAfter: 20);
        Append(log, 21, "a: 4\n");
        Append(log, 25, "b: 5\nb: 6\n");

        // Anchored at seq 12 with 3 lines before the log (the caller counted them in the stream): it had 4.
        Assert.Equal(["* [5] b: 5", "* [6] b: 6"], Write(log, anchor: 12, before: 3, had: 4, maxLines: 50, out var place));
        Assert.Equal(new SharedPlace(12, 6, 0, 2), place);

        // It had 1: two lines before the log are lost, the held ones given, at most 2 of them (one more lost).
        Assert.Equal(["* [5] b: 5", "* [6] b: 6"], Write(log, 12, 3, had: 1, maxLines: 2, out place));
        Assert.Equal(new SharedPlace(12, 6, 3, 2), place);

        // Anchored inside the log: the entries up to it are not counted.
        Assert.Equal(["* [1] b: 5", "* [2] b: 6"], Write(log, anchor: 21, before: 0, had: 0, maxLines: 50, out place));
        Assert.Equal(new SharedPlace(21, 2, 0, 2), place);
        Assert.Empty(Write(log, 25, 0, had: 0, 50, out place));
        Assert.Equal(new SharedPlace(25, 0, 0, 0), place);

        // More lines than the room has after the anchor: refused.
        Assert.False(log.TryWriteShared(new ArrayBufferWriter<byte>(), 21, 0, had: 3, 50, out _));
    }

    [Fact]
    public void Forgotten_entries_move_what_the_log_covers_and_are_counted()
    {
        var log = new RoomLog(0, coveredAfter: 0);
        for (var seq = 1; seq <= 5; seq++)
        {
            log.Append(Encoding.UTF8.GetBytes($"a: {seq}\n"), 1, ticks: seq, maxLines: 3, maxBytes: 1 << 20, oldest: 0, seq: seq * 2);
        }

        Assert.Equal(4, log.CoveredAfter);
        Assert.Equal(2, log.EvictedLines);
        Assert.Equal(10, log.LastSeq);
        log.Prune(oldest: 4);
        Assert.Equal(6, log.CoveredAfter);
        Assert.Equal(3, log.EvictedLines);
    }

    [Fact]
    public async Task Own_answers_wait_for_their_lines_and_go_out_in_order_when_they_come_back()
    {
        var clock = new FakeTimeProvider();
        using var meters = new TestMeters();
        using var member = new RoomMember(1, "tcp", new ShoutRoomOptions { QueueLength = 16 }, TimeSpan.FromSeconds(30), clock, new RoomMetrics(meters), _ => { });
        member.PendOwn(1, "ONE\n"u8.ToArray(), 1);
        member.PendOwn(3, "TWO\nTHREE\n"u8.ToArray(), 2);
        member.PendOwn(4, "FOUR\n"u8.ToArray(), 1);
        Assert.Equal(4, member.PendingOwnLines);
        var below = member.WaitOwnBelowAsync(2, CancellationToken.None).AsTask();
        Assert.False(below.IsCompleted);
        Assert.False(member.HasQueued);

        // Lines up to 3 came back: their answers, in order; not the fourth.
        Assert.Equal(3, member.ReleaseOwn(3));
        Assert.True(await below.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, member.PendingOwnLines);
        Assert.True(member.TryTake(out var first));
        Assert.Equal("ONE\n", Encoding.UTF8.GetString(first.Span));
        Assert.True(member.TryTake(out var second));
        Assert.Equal("TWO\nTHREE\n", Encoding.UTF8.GetString(second.Span));
        Assert.False(member.HasQueued);

        // A member closed while it waits: the wait ends, false.
        var none = member.WaitOwnBelowAsync(1, CancellationToken.None).AsTask();
        member.Complete();
        Assert.False(await none.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static void Append(RoomLog log, long seq, string lines) =>
        log.Append(Encoding.UTF8.GetBytes(lines), lines.Count(c => c == '\n'), ticks: 1, maxLines: 50, maxBytes: 1 << 20, oldest: 0, seq: seq);

    private static string[] Write(RoomLog log, long anchor, long before, long? had, int maxLines, out SharedPlace place)
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.True(log.TryWriteShared(output, anchor, before, had, maxLines, out place));
        return Encoding.UTF8.GetString(output.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
