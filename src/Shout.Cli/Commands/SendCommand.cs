using System.CommandLine;
using System.Text;
using Shout.Client;
using Shout.Endpoints;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout send</c>: the tutorial's 2.2 client. With a message, prints the reply; without one,
/// streams stdin to the server, half-closes at EOF and copies every reply to stdout (like <c>nc -N</c>),
/// byte for byte into a pipe or file, with controls shown escaped on a terminal (<see cref="TerminalOutput"/>).
/// Over UDP each line of stdin is one datagram (<see cref="SendDatagrams"/>), over WebSocket one
/// message (<see cref="SendMessages"/>).
/// </summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var address = CommonOptions.Address();
        var client = new ClientOptions();
        var message = new Argument<string[]>("message")
        {
            Description = "Words to send, joined by spaces (after -- when the first starts with -). Without any, stdin is sent (binary-safe) and replies go to stdout.",
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "message",
        };
        var command = new Command("send", "Send a message (or stdin) and print the server's answer.")
        {
            address, message,
        };
        client.AddTo(command, address);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var endpoint = client.Endpoint(parse, address);
            var words = parse.GetValue(message) ?? [];
            var options = client.Read(parse);
            try
            {
                if (endpoint.Transport == ShoutTransport.Udp)
                {
                    return await SendDatagrams.RunAsync(endpoint, options, words.Length > 0 ? Encoding.UTF8.GetBytes(string.Join(' ', words)) : null,
                        cancellationToken);
                }

                if (endpoint.Transport == ShoutTransport.WebSocket)
                {
                    return await SendMessages.RunAsync(endpoint, options, words.Length > 0 ? Encoding.UTF8.GetBytes(string.Join(' ', words)) : null,
                        cancellationToken);
                }

                await using var connection = await ShoutConnection.ConnectAsync(endpoint, options, cancellationToken);
                if (client.Verbose(parse))
                {
                    await Console.Error.WriteLineAsync($"shout: connected to {endpoint} ({connection.RemoteEndPoint})");
                }

                var (sent, received) = words.Length > 0
                    ? await SendMessageAsync(connection, string.Join(' ', words), cancellationToken)
                    : await StreamStdinAsync(connection, cancellationToken);

                // The server answers every byte it reads: none back means the connection died
                // (refused by a rule or a limit, or the server failed), which must not pass as success.
                if (sent > 0 && received == 0)
                {
                    await Console.Error.WriteLineAsync($"shout: {endpoint} closed the connection without answering");
                    return 1;
                }

                return 0;
            }
            catch (Exception e) when (ClientErrors.IsConnectionFailure(e))
            {
                await Console.Error.WriteLineAsync($"shout: {ClientErrors.Describe(e, endpoint)}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<(long Sent, long Received)> SendMessageAsync(ShoutConnection connection, string text, CancellationToken cancellationToken)
    {
        var message = Encoding.UTF8.GetBytes(text);
        await connection.Stream.WriteAsync(message, cancellationToken);
        await connection.HalfCloseAsync();
        using var reply = new MemoryStream();
        await connection.Stream.CopyToAsync(reply, cancellationToken);
        var received = reply.Length;
        if (received == 0 && message.Length > 0)
        {
            return (message.Length, 0);
        }

        if (reply.Length == 0 || reply.GetBuffer()[reply.Length - 1] != '\n')
        {
            reply.WriteByte((byte)'\n');
        }

        // One write for the whole line: clients run side by side into one pipe must not interleave.
        await using var stdout = TerminalOutput.OpenStandardOutput();
        await stdout.WriteAsync(reply.GetBuffer().AsMemory(0, (int)reply.Length), cancellationToken);
        await stdout.FlushAsync(cancellationToken);
        return (message.Length, received);
    }

    private static async Task<(long Sent, long Received)> StreamStdinAsync(ShoutConnection connection, CancellationToken cancellationToken)
    {
        // Upload and download run at once: a server answering as it reads would otherwise stall
        // on a full socket buffer while we are still sending.
        var upload = Task.Run(async () =>
        {
            await using var stdin = Console.OpenStandardInput();
            var sent = await CopyAsync(stdin, connection.Stream, cancellationToken);
            await connection.HalfCloseAsync();
            return sent;
        }, cancellationToken);
        long received;
        await using (var stdout = TerminalOutput.OpenStandardOutput())
        {
            received = await CopyAsync(connection.Stream, stdout, cancellationToken);
            await stdout.FlushAsync(cancellationToken);
        }

        return (await upload, received);
    }

    /// <summary>Stream.CopyToAsync, counting the bytes.</summary>
    private static async Task<long> CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await from.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            total += n;
        }

        return total;
    }
}
