using System.CommandLine;
using Shout.Cli.Commands;

var root = new RootCommand("Shout: say something to the server and it shouts it back, uppercased. "
    + "A server for TCP, UDP, Unix sockets, TLS and WebSocket, with clients, a browser page and a load generator.")
{
    ServeCommand.Create(),
    SendCommand.Create(),
    ChatCommand.Create(),
    BenchCommand.Create(),
    StatesCommand.Create(),
    TraceCommand.Create(),
};

var parse = root.Parse(args);

// A mistyped address or option gets one line on stderr per error, like every other error of the
// CLI, not a screen of help after it (--help shows that).
if (parse.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"shout: {error.Message}");
    }

    return 1;
}

// Signals belong to the commands (the server drains on SIGTERM), not to the parser's own handler.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
