using System.CommandLine;
using System.Text;
using Shout.Client;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout chat</c>: the tutorial's 2.4 client. Typing and replies run concurrently; a reply that
/// arrives while the user types is printed above the prompt, which is then redrawn with the
/// unfinished input. <c>quit</c> waits for the server's <c>QUIT</c> and exits 0; Ctrl+D or the
/// server closing end it cleanly. With stdin piped, each line is sent in turn. Over WebSocket each
/// line is one message and each reply message one line; a close code that is not a normal end fails.
/// In a room, a dropped connection is dialed again and resumed where it stopped (<see cref="ResumingChat"/>).
/// </summary>
internal static class ChatCommand
{
    private static readonly TimeSpan QuitWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var address = CommonOptions.Address();
        var client = new ClientOptions();
        var where = new Argument<string[]>("address")
        {
            Description = "The server, instead of -a: HOST PORT (as nc), HOST:PORT or a URL (ws://HOST:PORT/ws, as websocat).",
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "address",
        };
        var command = new Command("chat", "Talk to the server interactively; type quit (or Ctrl+D) to leave.")
        {
            address, where,
        };
        client.AddTo(command, address);
        command.Validators.Add(result =>
        {
            var words = result.GetValue(where) ?? [];
            if (words.Length > 0 && result.GetResult(address) is { Implicit: false })
            {
                result.AddError($"unexpected argument '{string.Join(' ', words)}': the address is given by -a already");
            }
            else if (Parsing.PositionalAddress.Only(words).Error is { } error)
            {
                result.AddError(error);
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var endpoint = client.Endpoint(parse, Parsing.PositionalAddress.Only(parse.GetValue(where) ?? []).Address ?? parse.GetValue(address)!);
            if (client.FamilyProblem(parse, endpoint) is { } family)
            {
                return await Parsing.CliRunner.UsageErrorAsync(parse, family);
            }

            try
            {
                var options = client.Read(parse);
                var first = await ChatLink.ConnectAsync(endpoint, options, cancellationToken);
                var console = new ChatConsole(interactive: !Console.IsInputRedirected && !Console.IsOutputRedirected);
                console.Status(client.Verbose(parse)
                    ? $"connected to {endpoint} over {endpoint.Transport.ToString().ToLowerInvariant()}; type quit or press Ctrl+D to leave"
                    : $"connected to {endpoint}; type quit or press Ctrl+D to leave");
                await using var link = new ResumingChat(first, token => ChatLink.ConnectAsync(endpoint, options, token), console);
                return await RunAsync(link, console, cancellationToken);
            }
            catch (Exception e) when (ClientErrors.IsConnectionFailure(e))
            {
                await Console.Error.WriteLineAsync($"shout: {ClientErrors.Describe(e, endpoint)}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ResumingChat link, ChatConsole console, CancellationToken cancellationToken)
    {
        var quitAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receive = ReceiveAsync(link, console, quitAnswered, cancellationToken);

        // Console input blocks a thread; keep it off the receive path.
        var typing = Task.Run(() => TypeAsync(link, console, cancellationToken), cancellationToken);
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
        await link.HalfCloseAsync();
        if (await Task.WhenAny(receive, Task.Delay(DrainWait, cancellationToken)) == receive)
        {
            await receive;
        }

        // Ctrl+C ends the session as cleanly as quit, with the exit code a shell expects of it.
        return console.Interrupted ? BenchCommand.Interrupted : 0;
    }

    /// <summary>Sends typed lines until quit (true) or end of input (false).</summary>
    private static async Task<bool> TypeAsync(ResumingChat link, ChatConsole console, CancellationToken cancellationToken)
    {
        while (console.ReadLine() is { } line)
        {
            await link.SendLineAsync(line, cancellationToken);
            if (ChatPosition.IsQuit(line))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task ReceiveAsync(ResumingChat link, ChatConsole console, TaskCompletionSource quitAnswered,
        CancellationToken cancellationToken)
    {
        await foreach (var line in link.RepliesAsync(cancellationToken))
        {
            console.Reply(line);
            if (line.AsSpan().SequenceEqual("QUIT"u8))
            {
                quitAnswered.TrySetResult();
            }
        }
    }
}
