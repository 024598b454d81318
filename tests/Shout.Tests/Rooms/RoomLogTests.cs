using System.Buffers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Rooms;

namespace Shout.Tests.Rooms;

/// <summary>A room's history: numbering across batches, the bounds in lines, bytes and age, what a resume is told is lost, and how many rooms are held.</summary>
public sealed class RoomLogTests
{
    [Fact]
    public void Lines_are_numbered_across_batches_and_the_newest_n_are_given()
    {
        var log = new RoomLog(0);
        Append(log, "a: 1\na: 2\n", maxLines: 3);
        Append(log, "b: 3\n", maxLines: 3);
        Append(log, "a: 4\na: 5\n", maxLines: 3);
        Assert.Equal(5, log.Last);
        Assert.Equal(["* [3] b: 3", "* [4] a: 4", "* [5] a: 5"], Write(log, after: 0, maxLines: 3, out var lost));
        Assert.Equal(2, lost);
    }

    [Fact]
    public void A_resume_gets_the_lines_after_its_offset_and_none_are_lost_when_all_are_held()
    {
        var log = new RoomLog(0);
        for (var i = 1; i <= 5; i++)
        {
            Append(log, $"a: {i}\n", maxLines: 50);
        }

        Assert.Equal(["* [4] a: 4", "* [5] a: 5"], Write(log, after: 3, maxLines: 50, out var lost));
        Assert.Equal(0, lost);
        Assert.Empty(Write(log, after: 5, maxLines: 50, out lost));
        Assert.Equal(0, lost);
    }

    [Fact]
    public void Bytes_and_age_bound_what_is_held()
    {
        var log = new RoomLog(0);
        log.Append(Encoding.UTF8.GetBytes("a: old\n"), 1, ticks: 10, maxLines: 50, maxBytes: 1000, oldest: 0);
        log.Append(Encoding.UTF8.GetBytes("a: new\n"), 1, ticks: 20, maxLines: 50, maxBytes: 1000, oldest: 0);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(1, log.Write(output, 0, 50, oldest: 15, out var lost));
        Assert.Equal(1, lost);
        Assert.Equal("* [2] a: new\n", Encoding.UTF8.GetString(output.WrittenSpan));

        log.Append(Encoding.UTF8.GetBytes("a: 0123456789\n"), 1, ticks: 30, maxLines: 50, maxBytes: 20, oldest: 0);
        Assert.True(log.Bytes <= 20);
        Assert.Equal(["* [3] a: 0123456789"], Write(log, 0, 50, out _));
    }

    [Fact]
    public void Only_so_many_rooms_are_held_and_the_least_recently_active_go_first()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(1));
        var history = new RoomHistory(new ShoutRoomOptions { HistoryRooms = 8 }, clock);
        var kept = history.Get("kept");
        for (var i = 0; i < 40; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            lock (kept.Gate)
            {
                history.Append(kept, "a: x\n"u8.ToArray(), 1, history.Now);
            }

            history.Get("room" + i);
            Assert.True(history.Rooms <= 8, $"{history.Rooms} rooms held");
        }

        Assert.Same(kept, history.Find("kept"));
        Assert.NotNull(history.Find("room39"));
        Assert.Null(history.Find("room0"));
    }

    private static void Append(RoomLog log, string lines, int maxLines) =>
        log.Append(Encoding.UTF8.GetBytes(lines), lines.Count(c => c == '\n'), ticks: 1, maxLines, maxBytes: 1 << 20, oldest: 0);

    private static string[] Write(RoomLog log, long after, int maxLines, out long lost)
    {
        var output = new ArrayBufferWriter<byte>();
        log.Write(output, after, maxLines, oldest: 0, out lost);
        return Encoding.UTF8.GetString(output.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
