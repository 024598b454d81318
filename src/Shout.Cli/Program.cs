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

// Signals belong to the commands (the server drains on SIGTERM), not to the parser's own handler.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
