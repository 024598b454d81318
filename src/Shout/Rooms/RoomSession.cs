using System.Buffers;
using System.Text;
using Shout.Framing;

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
    public RoomMember Member => member;

    /// <summary>
    /// Handles every whole line in <paramref name="input"/> (and, when <paramref name="isCompleted"/>,
    /// the unfinished rest); returns how much was consumed and whether the member goes on.
    /// </summary>
    public async ValueTask<FrameResult> ProcessAsync(ReadOnlySequence<byte> input, bool isCompleted, CancellationToken cancellationToken = default)
    {
        var rest = input;
        while (rest.PositionOf((byte)'\n') is { } newline)
        {
            var end = rest.GetPosition(1, newline);
            var line = rest.Slice(0, end);
            rest = rest.Slice(end);
            var action = await LineAsync(line, cancellationToken);
            if (action != FrameAction.Continue)
            {
                return new(input.Length - rest.Length, action);
            }
        }

        if (rest.Length > framer.MaxLineLength || (isCompleted && rest.Length > 0))
        {
            // Too long already (the framer refuses it), or the last line of a peer that is done.
            return new(input.Length, await LineAsync(rest, cancellationToken));
        }

        return new(input.Length - rest.Length, FrameAction.Continue);
    }

    /// <summary>One line, terminator included (none on a final unfinished line).</summary>
    public async ValueTask<FrameAction> LineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken = default)
    {
        var answer = new ArrayBufferWriter<byte>((int)Math.Min(line.Length + 8, framer.MaxLineLength + 64));
        var frame = framer.Process(line, answer, isCompleted: true);
        if (frame.Action != FrameAction.Continue)
        {
            // ERR line too long, or QUIT: the framer wrote the answer.
            await member.AnswerAsync(answer.WrittenMemory, cancellationToken);
            return frame.Action;
        }

        if (line.FirstSpan is [(byte)'/', ..])
        {
            await member.AnswerAsync(await CommandAsync(Text(line), cancellationToken), cancellationToken);
            return FrameAction.Continue;
        }

        if (!await member.AnswerAsync(answer.WrittenMemory, cancellationToken))
        {
            return FrameAction.Continue;
        }

        hub.Say(member, answer.WrittenSpan);
        return FrameAction.Continue;
    }

    private async ValueTask<byte[]> CommandAsync(string command, CancellationToken cancellationToken)
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
                hub.Move(member, argument);
                return RoomLines.RoomSet(argument);
            case "/JOIN":
                return RoomLines.Error($"usage: /join ROOM ({RoomNames.Rule})");
            case "/WHO" when argument.Length == 0:
                return RoomLines.Who(member.Room, await hub.WhoAsync(member.Room, cancellationToken));
            case "/WHO":
                return RoomLines.Error("usage: /who");
            default:
                return RoomLines.Error($"unknown command {verb} (try /nick NAME, /join ROOM, /who, quit)");
        }
    }

    private static string Text(ReadOnlySequence<byte> line)
    {
        var text = Encoding.UTF8.GetString(line);
        return text.TrimEnd('\n').TrimEnd('\r');
    }
}
