using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using Shout.Cli.Parsing;
using Shout.Client;
using Shout.Endpoints;
using Shout.Text;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout send</c>: the tutorial's 2.2 client. With a message, prints the reply; without one,
/// streams stdin to the server, half-closes at EOF and copies every reply to stdout (like <c>nc -N</c>),
/// byte for byte into a pipe or file, with controls shown escaped on a terminal (<see cref="TerminalOutput"/>).
/// Replies are printed as they arrive, whole lines at a time; <c>-w</c> and <c>-q</c> bound the wait
/// as nc's do (<see cref="ReplyDeadlines"/>). The address may also be given as nc's <c>HOST PORT</c> or
/// a URL before the message (<see cref="PositionalAddress"/>). A Shout refusal line
/// (<c>ERR server busy …</c>) as the answer exits 1. Over UDP each line of stdin is one datagram
/// (<see cref="SendDatagrams"/>), over WebSocket one message (<see cref="SendMessages"/>).
/// </summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var address = CommonOptions.Address();
        var client = new ClientOptions();
        var clocks = new SendWaitOptions();
        var message = new Argument<string[]>("message")
        {
            Description = "Words to send, joined by spaces. Without -a, a first word with a scheme (ws://HOST:PORT/ws) or "
                + "the first two as HOST PORT (nc) are the address; after -- every word is text. Without any, stdin is sent (binary-safe) and replies go to stdout.",
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "message",
        };
        var command = new Command("send", "Send a message (or stdin) and print the server's answer.")
        {
            address, message,
        };
        client.AddTo(command, address);
        clocks.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (positional, words, problem) = Split(parse, address, message);
            if (problem is not null)
            {
                return await CliRunner.UsageErrorAsync(parse, problem);
            }

            var endpoint = client.Endpoint(parse, positional ?? parse.GetValue(address)!);
            if (client.FamilyProblem(parse, endpoint) is { } family)
            {
                return await CliRunner.UsageErrorAsync(parse, family);
            }

            var wait = parse.GetValue(clocks.Wait);
            var options = client.Read(parse);
            if (wait is { } w)
            {
                // -w bounds all of connecting (TCP, then the TLS handshake or the WebSocket upgrade) unless those were set on their own.
                options = options with
                {
                    ConnectTimeout = client.ConnectTimeoutGiven(parse) ? options.ConnectTimeout : w,
                    TlsHandshakeTimeout = client.HandshakeTimeoutGiven(parse) ? options.TlsHandshakeTimeout : w,
                    ReplyTimeout = w,
                };
            }

            var deadlines = new ReplyDeadlines(wait, parse.GetValue(clocks.QuitAfter));
            try
            {
                var text = words.Length > 0 ? Encoding.UTF8.GetBytes(string.Join(' ', words)) : null;
                if (endpoint.Transport == ShoutTransport.Udp)
                {
                    return await SendDatagrams.RunAsync(endpoint, options, text, cancellationToken);
                }

                if (endpoint.Transport == ShoutTransport.WebSocket)
                {
                    return await SendMessages.RunAsync(endpoint, options, text, deadlines, cancellationToken);
                }

                await using var connection = await ShoutConnection.ConnectAsync(endpoint, options, cancellationToken);
                if (client.Verbose(parse))
                {
                    await Console.Error.WriteLineAsync($"shout: connected to {endpoint} ({connection.RemoteEndPoint})");
                }

                var first = new FirstLine();
                var (sent, received) = text is not null
                    ? await SendMessageAsync(connection, text, deadlines, first, cancellationToken)
                    : await StreamStdinAsync(connection, deadlines, first, cancellationToken);

                // The server answers every byte it reads: none back means the connection died
                // (refused by a rule or a limit, or the server failed), which must not pass as success.
                if (sent > 0 && received == 0)
                {
                    await Console.Error.WriteLineAsync($"shout: {endpoint} closed the connection without answering");
                    return 1;
                }

                if (first.IsRefusal)
                {
                    await Console.Error.WriteLineAsync($"shout: {endpoint} refused the connection: {first.Text}");
                    return 1;
                }

                return 0;
            }
            catch (IdleTimeoutException e)
            {
                await Console.Error.WriteLineAsync($"shout: nothing from {endpoint} for {DurationText.Format(e.Idle)}; giving up (-w)");
                return 1;
            }
            catch (Exception e) when (ClientErrors.IsConnectionFailure(e))
            {
                await Console.Error.WriteLineAsync($"shout: {ClientErrors.Describe(e, endpoint)}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>The positional address (if the words start with one), the message words, or a usage error.</summary>
    private static (ShoutEndpoint? Address, string[] Words, string? Problem) Split(ParseResult parse, Option<ShoutEndpoint> address, Argument<string[]> message)
    {
        var words = parse.GetValue(message) ?? [];
        var tokens = parse.GetResult(message)?.Tokens ?? [];
        if (words.Length == 0 || AfterDoubleDash(parse, tokens))
        {
            return (null, words, null);
        }

        var split = PositionalAddress.Leading(words);
        if (parse.GetResult(address) is { Implicit: false })
        {
            // -a said where; the words are text, unless the first is plainly a second address.
            return words[0].Contains("://", StringComparison.Ordinal) && split.Address is not null
                ? (null, words, $"two addresses: -a and '{words[0]}'; give one (to send '{words[0]}' as text: shout send -a ADDRESS -- {words[0]})")
                : (null, words, null);
        }

        return (split.Address, split.Rest, split.Error);
    }

    private static bool AfterDoubleDash(ParseResult parse, IReadOnlyList<Token> words)
    {
        var all = parse.Tokens;
        var doubleDash = -1;
        var firstWord = -1;
        for (var i = 0; i < all.Count; i++)
        {
            if (doubleDash < 0 && all[i].Type == TokenType.DoubleDash)
            {
                doubleDash = i;
            }

            if (firstWord < 0 && words.Count > 0 && ReferenceEquals(all[i], words[0]))
            {
                firstWord = i;
            }
        }

        return doubleDash >= 0 && (firstWord < 0 || doubleDash < firstWord);
    }

    private static async Task<(long Sent, long Received)> SendMessageAsync(ShoutConnection connection, byte[] message,
        ReplyDeadlines deadlines, FirstLine first, CancellationToken cancellationToken)
    {
        await connection.Stream.WriteAsync(message, cancellationToken);
        await connection.HalfCloseAsync();
        deadlines.InputEnded();
        await using var stdout = TerminalOutput.OpenStandardOutput();
        var lines = new LineWriter(stdout);
        try
        {
            return (message.Length, await CopyRepliesAsync(connection.Stream, deadlines, first, lines.WriteAsync, cancellationToken,
                () => lines.FlushAsync(cancellationToken)));
        }
        finally
        {
            // What came is shown even when a clock ran out, ending with a newline even if the server sent none.
            await lines.EndAsync(CancellationToken.None);
        }
    }

    private static async Task<(long Sent, long Received)> StreamStdinAsync(ShoutConnection connection, ReplyDeadlines deadlines, FirstLine first,
        CancellationToken cancellationToken)
    {
        // Upload and download run at once: a server answering as it reads would otherwise stall
        // on a full socket buffer while we are still sending.
        var upload = Task.Run(async () =>
        {
            await using var stdin = Console.OpenStandardInput();
            var buffer = new byte[64 * 1024];
            long sent = 0;
            int n;
            while ((n = await stdin.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await connection.Stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                deadlines.Touch();
                sent += n;
            }

            await connection.HalfCloseAsync();
            deadlines.InputEnded();
            return sent;
        }, cancellationToken);
        long received;
        await using (var stdout = TerminalOutput.OpenStandardOutput())
        {
            received = await CopyRepliesAsync(connection.Stream, deadlines, first, async (data, token) =>
            {
                await stdout.WriteAsync(data, token);
                await stdout.FlushAsync(token);
            }, cancellationToken);
        }

        // -q may end the reading while stdin is still open (nc -q quits then too).
        return (upload.IsCompleted ? await upload : 1, received);
    }

    /// <summary>Every reply byte to <paramref name="write"/> as it arrives, until the end or a clock runs out.</summary>
    private static async Task<long> CopyRepliesAsync(Stream from, ReplyDeadlines deadlines, FirstLine first,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken cancellationToken, Func<ValueTask>? onPause = null)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await deadlines.ReadAsync(from, buffer, cancellationToken, onPause)) > 0)
        {
            first.Add(buffer.AsSpan(0, n));
            await write(buffer.AsMemory(0, n), cancellationToken);
            total += n;
        }

        return total;
    }
}
