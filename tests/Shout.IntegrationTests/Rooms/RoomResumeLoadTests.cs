using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Toxics;
using Xunit.Abstractions;

namespace Shout.IntegrationTests.Rooms;

/// <summary>
/// Issue 24's resume test under load, on the in-memory ring over TCP (no bus): 10 senders together
/// say 1,000 lines/s for 10 s; one member, talking through a <c>shout proxy</c>, is cut off for 5 s
/// (the proxy disabled: its connection reset) and comes back with <c>/resume</c>. Counted per sender,
/// it has every line once, in order. About 15 s.
/// </summary>
public sealed partial class RoomResumeLoadTests(ITestOutputHelper output)
{
    private const int Senders = 10;
    private const int LinesPerSecondEach = 100;   // 1,000 lines/s together
    private const int LinesEach = 1000;           // 10 s
    private static readonly TimeSpan Cut = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_member_cut_off_for_5_s_while_10_senders_say_1000_lines_a_second_resumes_with_every_line_once_in_order_per_sender()
    {
        // The window must hold what is said during the cut (about 5,000 lines of 11 bytes) with room
        // to spare: all 10,000 lines of the run, by count and by bytes (the default 64 KiB per room
        // holds about 6 s of this traffic, too close to the cut on a slow machine).
        await using var server = await RoomHistoryTests.StartAsync(Window);
        await CutAndResumeAsync(server, server);
    }

    [Fact]
    public async Task With_shared_offsets_a_member_cut_off_for_5_s_resumes_on_the_other_instance_with_every_line_once_in_order_per_sender()
    {
        // Two instances on one nats-server with JetStream; half the senders on each; the member
        // talks to a and comes back to b.
        await using var nats = await NatsServer.StartAsync(["-js"]);
        await using var a = await RoomSharedOffsetsTests.StartInstanceAsync(nats, Window);
        await using var b = await RoomSharedOffsetsTests.StartInstanceAsync(nats, Window);
        await CutAndResumeAsync(a, b);
    }

    private static void Window(ShoutServerOptions o)
    {
        o.Rooms.History = 20_000;
        o.Rooms.HistoryBytes = 1024 * 1024;
    }

    /// <summary>The member on <paramref name="server"/> through the proxy; senders on both; back on <paramref name="other"/> (through the proxy when it is the same).</summary>
    private async Task CutAndResumeAsync(TestServer server, TestServer other)
    {
        await using var proxy = await ProxyFixture.StartAsync();
        var port = proxy.Add("member", $"127.0.0.1:{server.Endpoint.Port}");
        var through = ShoutEndpoint.Parse($"tcp://127.0.0.1:{port}");

        var member = new Tally();
        var first = await RoomClient.ConnectAsync(through);
        await first.ReadLineAsync();
        var (room, offset, epoch) = await RoomSharedOffsetsTests.ReadPositionAsync(first);
        member.Offset = offset;

        var senders = new List<RoomClient>();
        for (var i = 0; i < Senders; i++)
        {
            senders.Add(await RoomClient.JoinAsync((i % 2 == 0 ? server : other).Endpoint, $"s{i}"));
        }

        using var stop = new CancellationTokenSource(Timeout);
        var clock = Stopwatch.StartNew();
        var talking = senders.Select((s, i) => TalkAsync(s, i, clock, stop.Token)).ToList();

        // Reads live until the cut has reset its connection.
        var reading = ReadLiveAsync(first, member);
        await Eventually.TrueAsync(() => member.Total >= 1500, Timeout, () => $"{member.Total} lines before the cut");
        await SetEnabledAsync(proxy, false);
        await reading.WaitAsync(Timeout);
        var cutAt = clock.Elapsed;

        // The cut itself: the scenario's 5 s, not a wait for anything.
        await Task.Delay(Cut);
        await SetEnabledAsync(proxy, true);
        await using var again = await RoomClient.ConnectAsync(ReferenceEquals(server, other) ? through : other.Endpoint);
        await again.SendAsync($"/resume {room} {member.Offset} {epoch}");
        await again.ReadUntilAsync($"OK resume {room}");
        var missed = 0;
        while (true)
        {
            var line = await again.ReadLineAsync();
            Assert.DoesNotMatch(@"^\* \[lost ", line);
            if (line.StartsWith("* [at ", StringComparison.Ordinal))
            {
                break;
            }

            var numbered = NumberedLine().Match(line);
            Assert.True(numbered.Success, $"not a missed line: {line}");
            Assert.Equal(member.Offset + 1, long.Parse(numbered.Groups[1].Value, CultureInfo.InvariantCulture));
            member.Take(numbered.Groups[2].Value);
            member.Offset++;
            missed++;
        }

        var resumedAt = clock.Elapsed;
        await Task.WhenAll(talking);

        // Live again until every sender's last line has arrived.
        while (!member.HasAll(LinesEach))
        {
            var line = await again.ReadLineAsync(Timeout);
            if (!line.StartsWith("* ", StringComparison.Ordinal))
            {
                member.Take(line);
            }
        }

        Assert.True(missed >= 1000, $"only {missed} lines were missed during the cut from {cutAt.TotalSeconds:0.0} s to {resumedAt.TotalSeconds:0.0} s: it was not under load");
        output.WriteLine($"cut from {cutAt.TotalSeconds:0.00} s, resumed at {resumedAt.TotalSeconds:0.00} s with {missed} missed lines; all {Senders * LinesEach} lines by {clock.Elapsed.TotalSeconds:0.00} s");
        for (var i = 0; i < Senders; i++)
        {
            Assert.True(member.Seen[i].SequenceEqual(Enumerable.Range(0, LinesEach)),
                $"sender {i}: {member.Seen[i].Count} lines, first out of order at {FirstWrong(member.Seen[i])}");
        }

        foreach (var sender in senders)
        {
            await sender.DisposeAsync();
        }

        await first.DisposeAsync();
    }

    /// <summary>Says <see cref="LinesEach"/> lines at <see cref="LinesPerSecondEach"/> a second (paced by the clock, catching up if late).</summary>
    private static async Task TalkAsync(RoomClient sender, int index, Stopwatch clock, CancellationToken cancellationToken)
    {
        var sent = 0;
        while (sent < LinesEach)
        {
            var due = Math.Min(LinesEach, (int)(clock.Elapsed.TotalSeconds * LinesPerSecondEach) + 1);
            for (; sent < due; sent++)
            {
                await sender.SendAsync(string.Create(CultureInfo.InvariantCulture, $"S{index} {sent}"));
            }

            // Pacing, not synchronisation: nothing waits on this delay.
            await Task.Delay(5, cancellationToken);
        }
    }

    private static async Task ReadLiveAsync(RoomClient member, Tally tally)
    {
        var closed = false;
        while (!closed)
        {
            var line = await member.TryReadLineAsync(Timeout, closed: () => closed = true);
            if (line is null)
            {
                Assert.True(closed, "the member heard nothing for a minute");
                return;
            }

            if (!line.StartsWith("* ", StringComparison.Ordinal))
            {
                tally.Take(line);
                tally.Offset++;
            }
        }
    }

    private static async Task SetEnabledAsync(ProxyFixture proxy, bool enabled)
    {
        using var response = await proxy.PostAsync("/proxies/member", enabled ? """{"enabled":true}""" : """{"enabled":false}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static int FirstWrong(List<int> seen)
    {
        var i = 0;
        while (i < seen.Count && seen[i] == i)
        {
            i++;
        }

        return i;
    }

    [GeneratedRegex(@"^\* \[(\d+)\] (.*)$")]
    private static partial Regex NumberedLine();

    [GeneratedRegex(@"^s(\d+): S(\d+) (\d+)$")]
    private static partial Regex SenderLine();

    /// <summary>What the member heard, per sender, and its position.</summary>
    private sealed class Tally
    {
        private int _total;

        public List<int>[] Seen { get; } = Enumerable.Range(0, Senders).Select(_ => new List<int>()).ToArray();

        public long Offset { get; set; }

        public int Total => Volatile.Read(ref _total);

        public void Take(string line)
        {
            var m = SenderLine().Match(line);
            Assert.True(m.Success, $"not a sender's line: {line}");
            var sender = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.Equal(m.Groups[1].Value, m.Groups[2].Value);
            Seen[sender].Add(int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
            Interlocked.Increment(ref _total);
        }

        public bool HasAll(int each) => Seen.All(s => s.Count >= each);
    }
}
