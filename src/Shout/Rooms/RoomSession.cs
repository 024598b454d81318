using System.Buffers;
using System.Text;
using Shout.Protocols.Framing;

namespace Shout.Rooms;

/// <summary>
/// Room mode's protocol for one member, the same on every transport: input is split into lines by
/// <see cref="LineFramer"/> (same limit, same <c>quit</c>, same uppercasing); a line starting with
/// <c>/</c> is a command, any other line is answered to its sender exactly as in line mode and
/// delivered to the rest of the room with the sender's name in front. Not thread-safe: one per
/// member, driven by that member's read loop.
/// </summary>
internal sealed class RoomSession(RoomHub hub, RoomMember member, LineFramer framer)
{
    private string? _nick;
    private byte[] _prefix = [];

    public RoomMember Member => member;

    /// <summary>
    /// Handles every whole line in <paramref name="input"/> (and, when <paramref name="isCompleted"/>,
    /// the unfinished rest); returns how much was consumed and whether the member goes on. Runs of
    /// plain lines are answered and delivered together (<see cref="RoomBatch"/>); a command is
    /// handled after the lines before it went out, so order is kept.
    /// </summary>
    public ValueTask<FrameResult> ProcessAsync(ReadOnlySequence<byte> input, bool isCompleted, CancellationToken cancellationToken = default) =>
        ProcessAsync(input, isCompleted, peerDone: isCompleted, cancellationToken);

    /// <param name="input">What the member sent.</param>
    /// <param name="isCompleted">No more input follows this read's: its last line needs no terminator.</param>
    /// <param name="peerDone">The member is done sending (a stream's end; not a message's): with shared offsets its answers come first.</param>
    /// <param name="cancellationToken">The session's.</param>
    private async ValueTask<FrameResult> ProcessAsync(ReadOnlySequence<byte> input, bool isCompleted, bool peerDone, CancellationToken cancellationToken)
    {
        var rest = input;
        RoomBatch? batch = null;
        while (rest.PositionOf((byte)'\n') is { } newline)
        {
            var end = rest.GetPosition(1, newline);
            var line = rest.Slice(0, end);
            rest = rest.Slice(end);
            if (IsCommand(line))
            {
                await FlushAsync(batch, cancellationToken);
                batch = null;
                await CommandLineAsync(line, cancellationToken);
                continue;
            }

            batch ??= new RoomBatch(framer, Prefix(), rest.Length + line.Length, member.QueueLength);
            var action = batch.Add(line);
            if (action != FrameAction.Continue)
            {
                await FlushAsync(batch, cancellationToken);
                await OwnAnsweredBeforeClosingAsync(cancellationToken);
                return new(input.Length - rest.Length, action);
            }

            if (batch.Full)
            {
                await FlushAsync(batch, cancellationToken);
                batch = null;
            }
        }

        if (rest.Length > framer.MaxLineLength || (isCompleted && rest.Length > 0))
        {
            // Too long already (the framer refuses it), or the last line of a peer that is done.
            await FlushAsync(batch, cancellationToken);
            var last = await LineAsync(rest, cancellationToken);
            if (peerDone || last != FrameAction.Continue)
            {
                await OwnAnsweredBeforeClosingAsync(cancellationToken);
            }

            return new(input.Length, last);
        }

        await FlushAsync(batch, cancellationToken);
        if (peerDone)
        {
            // The peer is done sending (a half-close): its answers first.
            await OwnAnsweredBeforeClosingAsync(cancellationToken);
        }

        return new(input.Length - rest.Length, FrameAction.Continue);
    }

    /// <summary>
    /// One message of the message seam (a WebSocket message, a UDP datagram): whole lines, the last
    /// one needing no terminator, handled without being turned into a stream first.
    /// </summary>
    public ValueTask<FrameResult> MessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
        ProcessAsync(new ReadOnlySequence<byte>(message), isCompleted: true, peerDone: false, cancellationToken);

    /// <summary>The member on the message seam closed (a WebSocket close): with shared offsets, its answers first, a while.</summary>
    public ValueTask PeerDoneAsync() => OwnAnsweredBeforeClosingAsync(CancellationToken.None);

    /// <summary>One whole line, terminator included (none on a message's line or a final unfinished one).</summary>
    public async ValueTask<FrameAction> LineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken = default)
    {
        if (IsCommand(line))
        {
            await CommandLineAsync(line, cancellationToken);
            return FrameAction.Continue;
        }

        var batch = new RoomBatch(framer, Prefix(), line.Length, member.QueueLength);
        var action = batch.Add(line);
        await FlushAsync(batch, cancellationToken);
        return action;
    }

    /// <summary>A command, answered after every answer before it (with shared offsets those wait for the bus).</summary>
    private async ValueTask CommandLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        if (hub.Shared && !await member.WaitOwnBelowAsync(1, cancellationToken))
        {
            return;
        }

        await AnswerAsync(await CommandAsync(Text(line), cancellationToken), cancellationToken);
    }

    /// <summary>
    /// With shared offsets, before the member is closed (quit, a line too long, its end of input):
    /// the answers to its lines come back from the bus first, for at most <see cref="ClosingWait"/>.
    /// </summary>
    private async ValueTask OwnAnsweredBeforeClosingAsync(CancellationToken cancellationToken)
    {
        if (!hub.Shared || member.PendingOwnLines == 0)
        {
            return;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(ClosingWait);
        try
        {
            await member.WaitOwnBelowAsync(1, bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The bus did not bring them back in time (an outage): the member closes without them.
        }
    }

    /// <summary>How long a closing member waits for the answers the bus has not brought back yet.</summary>
    internal static readonly TimeSpan ClosingWait = TimeSpan.FromSeconds(10);

    /// <summary>The sender's answer first (as in line mode), then the room's copy; nothing to the room once the member is closed.</summary>
    private async ValueTask FlushAsync(RoomBatch? batch, CancellationToken cancellationToken)
    {
        if (batch is null || batch.OwnLines == 0)
        {
            return;
        }

        if (hub.Shared)
        {
            // Answered when the lines come back from the bus; at most a queue's worth of answers waits so.
            if (!await member.WaitOwnBelowAsync(batch.Lines > 0 ? member.QueueLength : 1, cancellationToken))
            {
                return;
            }

            if (batch.Lines == 0)
            {
                // Only the framer's final answer (QUIT, or ERR for a line too long): after the others.
                await member.AnswerAsync(batch.Own, batch.OwnLines, cancellationToken);
                return;
            }
        }

        // With history, in one step when the answer fits now, so the sender counts its lines where the history has them.
        if (batch.Lines > 0 && hub.TryAnswerAndSay(member, batch.Own, batch.OwnLines, batch.Said, batch.Lines))
        {
            return;
        }

        if (await member.AnswerAsync(batch.Own, batch.OwnLines, cancellationToken) && batch.Lines > 0)
        {
            hub.Say(member, batch.Said, batch.Lines);
        }
    }

    /// <summary>A command's one-line answer; none when the hub already gave it (with the room's history after it).</summary>
    private async ValueTask AnswerAsync(byte[]? answer, CancellationToken cancellationToken)
    {
        if (answer is not null)
        {
            await member.AnswerAsync(answer, 1, cancellationToken);
        }
    }

    /// <summary>The member's name and <c>": "</c>, made again only when the name changed.</summary>
    private byte[] Prefix()
    {
        var nick = member.Nick;
        if (!ReferenceEquals(nick, _nick))
        {
            _prefix = RoomLines.Prefix(nick);
            _nick = nick;
        }

        return _prefix;
    }

    private async ValueTask<byte[]?> CommandAsync(string command, CancellationToken cancellationToken)
    {
        var space = command.IndexOf(' ', StringComparison.Ordinal);
        var verb = space < 0 ? command : command[..space];
        var argument = space < 0 ? "" : command[(space + 1)..].Trim();
        switch (verb.ToUpperInvariant())
        {
            case "/NICK" when RoomNames.IsValid(argument):
                return hub.Rename(member, argument) ? RoomLines.NickSet(argument) : RoomLines.Error($"nick {argument} is taken");
            case "/NICK":
                return RoomLines.Error($"usage: /nick NAME ({RoomNames.Rule})");
            case "/JOIN" when RoomNames.IsValid(argument):
                hub.Move(member, argument, RoomLines.RoomSet(argument));
                return null;
            case "/JOIN":
                return RoomLines.Error($"usage: /join ROOM ({RoomNames.Rule})");
            case "/RESUME" when ResumeArguments.TryParse(argument, out var room, out var offset, out var epoch):
                return await hub.ResumeAsync(member, room, offset, epoch, cancellationToken);
            case "/RESUME":
                return RoomLines.Error($"usage: /resume ROOM OFFSET EPOCH ({ResumeArguments.Rule})");
            case "/WHO" when argument.Length == 0:
                return RoomLines.Who(member.Room, await hub.WhoAsync(member.Room, cancellationToken));
            case "/WHO":
                return RoomLines.Error("usage: /who");
            default:
                return RoomLines.Error($"unknown command {verb} (try /nick NAME, /join ROOM, /who, quit)");
        }
    }

    /// <summary>A line starting with <c>/</c> within the limit (a longer one is refused by the framer like any other).</summary>
    private bool IsCommand(in ReadOnlySequence<byte> line) =>
        line.FirstSpan is [(byte)'/', ..] && line.Length - (line.Slice(line.Length - 1).FirstSpan[0] == '\n' ? 1 : 0) <= framer.MaxLineLength;

    private static string Text(ReadOnlySequence<byte> line)
    {
        var text = Encoding.UTF8.GetString(line);
        return text.TrimEnd('\n').TrimEnd('\r');
    }
}
