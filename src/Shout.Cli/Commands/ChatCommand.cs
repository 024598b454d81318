using System.CommandLine;
using System.Text;
using Shout.Client;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout chat</c>: the tutorial's 2.4 client. Typing and replies run concurrently; a reply that
/// arrives while the user types is printed above the prompt, which is then redrawn with the
/// unfinished input. <c>quit</c> waits for the server's <c>QUIT</c> and exits 0; Ctrl+D or the
/// server closing end it cleanly. With stdin piped, each line is sent in turn.
/// </summary>
internal static class ChatCommand
{
    private static readonly TimeSpan QuitWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var address = CommonOptions.Address();
        var client = new ClientOptions();
        var command = new Command("chat", "Talk to the server interactively; type quit (or Ctrl+D) to leave.")
        {
            address,
        };
        client.AddTo(command, address);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var endpoint = client.Endpoint(parse, address);
            try
            {
                await using var connection = await ShoutConnection.ConnectAsync(endpoint, client.Read(parse), cancellationToken);
                var console = new ChatConsole(interactive: !Console.IsInputRedirected && !Console.IsOutputRedirected);
                console.Status(client.Verbose(parse)
                    ? $"connected to {endpoint} ({connection.RemoteEndPoint}); type quit or press Ctrl+D to leave"
                    : $"connected to {endpoint}; type quit or press Ctrl+D to leave");
                return await RunAsync(connection, console, cancellationToken);
            }
            catch (Exception e) when (ClientErrors.IsConnectionFailure(e))
            {
                await Console.Error.WriteLineAsync($"shout: {ClientErrors.Describe(e, endpoint)}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ShoutConnection connection, ChatConsole console, CancellationToken cancellationToken)
    {
        var quitAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receive = ReceiveAsync(connection, console, quitAnswered, cancellationToken);

        // Console input blocks a thread; keep it off the receive path.
        var typing = Task.Run(() => TypeAsync(connection, console, cancellationToken), cancellationToken);
        var first = await Task.WhenAny(receive, typing);
        if (first == receive)
        {
            await receive;
            console.EndPrompt();
            console.Status("the server closed the connection");
            return 0;
        }

        if (await typing)
        {
            await Task.WhenAny(quitAnswered.Task, receive, Task.Delay(QuitWait, cancellationToken));
        }

        // Half-close and print every reply still coming, so the close is a clean FIN, never a reset.
        await connection.HalfCloseAsync();
        if (await Task.WhenAny(receive, Task.Delay(DrainWait, cancellationToken)) == receive)
        {
            await receive;
        }

        // Ctrl+C ends the session as cleanly as quit, with the exit code a shell expects of it.
        return console.Interrupted ? BenchCommand.Interrupted : 0;
    }

    /// <summary>Sends typed lines until quit (true) or end of input (false).</summary>
    private static async Task<bool> TypeAsync(ShoutConnection connection, ChatConsole console, CancellationToken cancellationToken)
    {
        while (console.ReadLine() is { } line)
        {
            await connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
            await connection.Stream.FlushAsync(cancellationToken);
            if (line.Trim() == "quit")
            {
                return true;
            }
        }

        return false;
    }

    private static async Task ReceiveAsync(ShoutConnection connection, ChatConsole console, TaskCompletionSource quitAnswered,
        CancellationToken cancellationToken)
    {
        var decoder = Encoding.UTF8.GetDecoder();
        var bytes = new byte[16 * 1024];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        var pending = new StringBuilder();
        try
        {
            int read;
            while ((read = await connection.Stream.ReadAsync(bytes, cancellationToken)) > 0)
            {
                var count = decoder.GetChars(bytes, 0, read, chars, 0);
                pending.Append(chars, 0, count);
                int newline;
                while ((newline = IndexOf(pending, '\n')) >= 0)
                {
                    var line = pending.ToString(0, newline).TrimEnd('\r');
                    pending.Remove(0, newline + 1);
                    console.Reply(line);
                    if (line == "QUIT")
                    {
                        quitAnswered.TrySetResult();
                    }
                }
            }
        }
        catch (IOException)
        {
            // A reset ends the conversation like a close does; the status line says so.
        }

        if (pending.Length > 0)
        {
            console.Reply(pending.ToString());
        }
    }

    private static int IndexOf(StringBuilder text, char value)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}
