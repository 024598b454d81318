using System.CommandLine;
using Shout.Cli.Commands;
using Shout.Cli.Parsing;

var root = new RootCommand("Shout: say something to the server and it shouts it back, uppercased. "
    + "A server for TCP, UDP, Unix sockets, TLS and WebSocket, with clients, a browser page and a load generator.")
{
    ServeCommand.Create(),
    SendCommand.Create(),
    ChatCommand.Create(),
    BenchCommand.Create(),
    StatesCommand.Create(),
    TraceCommand.Create(),
    ProxyCommand.Create(),
};

return await CliRunner.RunAsync(root, args);
