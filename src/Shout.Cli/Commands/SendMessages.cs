using System.Net.WebSockets;
using System.Text.Unicode;
using Shout.Client;
using Shout.Endpoints;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout send -a ws://…</c>: the message is one WebSocket message, or each line of stdin is one
/// (as each is one datagram over UDP); lines go out while replies come back, and each reply message
/// is printed on its own line. After the last line the client sends its close (1000) and prints
/// every reply until the server's close. The server closing with any other code fails in one line.
/// A text message must be valid UTF-8: a line that is not stops the sending (use --binary).
/// <c>-w</c> and <c>-q</c> bound the wait for replies as over TCP (<see cref="ReplyDeadlines"/>): a
/// server that answers but never sends its close no longer holds <c>send</c> forever.
/// </summary>
internal static class SendMessages
{
    public static async Task<int> RunAsync(ShoutEndpoint endpoint, ShoutClientOptions options, byte[]? message, ReplyDeadlines deadlines,
        CancellationToken cancellationToken)
    {
        await using var client = await ShoutWebSocketClient.ConnectAsync(endpoint, options, cancellationToken);

        // Sending and printing run at once: a long piped input must not wait for every reply in turn.
        var upload = Task.Run(() => UploadAsync(client, message, deadlines, cancellationToken), cancellationToken);
        await using var stdout = TerminalOutput.OpenStandardOutput();
        while (await deadlines.NextAsync(client.ReceiveMessageAsync(cancellationToken), null, cancellationToken) is { } reply)
        {
            // One write per line: clients run side by side into one pipe must not interleave.
            var line = new byte[reply.Data.Length + 1];
            reply.Data.CopyTo(line, 0);
            line[^1] = (byte)'\n';
            await stdout.WriteAsync(line, cancellationToken);
            await stdout.FlushAsync(cancellationToken);
        }

        // -q may end the reading while stdin is still open (nc -q quits then too).
        if (!upload.IsCompleted)
        {
            return 0;
        }

        if (await upload is { } problem)
        {
            await Console.Error.WriteLineAsync($"shout: {problem}");
            return 1;
        }

        return 0;
    }

    /// <summary>Sends every line, then the close; returns why it stopped early, or null.</summary>
    private static async Task<string?> UploadAsync(ShoutWebSocketClient client, byte[]? message, ReplyDeadlines deadlines,
        CancellationToken cancellationToken)
    {
        var number = 0;
        await foreach (var line in StdinLines.ReadAsync(message, cancellationToken))
        {
            number++;
            if (client.MessageType == WebSocketMessageType.Text && !Utf8.IsValid(line))
            {
                await client.CloseOutputAsync(cancellationToken);
                return message is null
                    ? $"line {number} of stdin is not valid UTF-8, which a text message must be; send binary messages with --binary"
                    : "the message is not valid UTF-8, which a text message must be; send a binary message with --binary";
            }

            await client.SendAsync(line, cancellationToken);
            deadlines.Touch();
        }

        await client.CloseOutputAsync(cancellationToken);
        deadlines.InputEnded();
        return null;
    }
}
