using System.Text;
using Microsoft.Extensions.Time.Testing;
using Shout.Rooms;

namespace Shout.Tests.Rooms;

/// <summary>The message seam's member writer: one queued line, one message, in order, without its terminator.</summary>
public sealed class MessageMemberWriterTests : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly FakeTimeProvider _clock = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Each_queued_line_goes_out_as_one_message_in_order_and_the_writer_ends_with_the_member()
    {
        using var member = new RoomMember(1, "ws", new ShoutRoomOptions(), TimeSpan.FromSeconds(30), _clock, new RoomMetrics(_meters), _ => { });
        member.Deliver(Encoding.UTF8.GetBytes("a: one\nb: two\r\n"));
        member.Deliver(Encoding.UTF8.GetBytes("c: three\n"));
        var sent = new List<string>();

        var writer = MessageMemberWriter.RunAsync(member, sent, static (to, text) =>
        {
            to.Add(Encoding.UTF8.GetString(text.Span));
            return ValueTask.CompletedTask;
        });
        member.Complete();
        await writer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["a: one", "b: two", "c: three"], sent);
    }

    [Fact]
    public async Task A_failed_send_ends_the_writer_with_the_transports_exception()
    {
        using var member = new RoomMember(1, "udp", new ShoutRoomOptions(), TimeSpan.FromSeconds(30), _clock, new RoomMetrics(_meters), _ => { });
        member.Deliver(Encoding.UTF8.GetBytes("x: lost\n"));

        var writer = MessageMemberWriter.RunAsync(member, 0, static (_, _) => throw new IOException("peer gone"));

        var failure = await Assert.ThrowsAsync<IOException>(() => writer.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("peer gone", failure.Message);
    }

    [Theory]
    [InlineData("line\n", "line")]
    [InlineData("line\r\n", "line")]
    [InlineData("last line unfinished", "last line unfinished")]
    [InlineData("\n", "")]
    public void A_line_loses_only_its_terminator(string line, string text) =>
        Assert.Equal(text, Encoding.UTF8.GetString(MessageMemberWriter.Text(Encoding.UTF8.GetBytes(line)).Span));
}
