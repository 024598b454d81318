using System.CommandLine;
using Shout.Cli.Parsing;

namespace Shout.Cli.Commands;

/// <summary><c>send</c>'s nc clocks: <c>-w/--wait</c> (connect and idle timeout) and <c>-q/--quit-after</c>.</summary>
internal sealed class SendWaitOptions
{
    public Option<TimeSpan?> Wait { get; } = new("--wait", "-w")
    {
        Description = "As nc -w: give up connecting (TCP, then a TLS handshake or WebSocket upgrade), or waiting with nothing sent or received, after this long (e.g. 2s); exit 1. TCP, TLS, Unix, ws and wss alike. UDP: the same as --timeout. Default: connect 5s, then wait as long as the server keeps the connection open.",
        HelpName = "duration",
        CustomParser = CliValues.OptionalDuration,
    };

    public Option<TimeSpan?> QuitAfter { get; } = new("--quit-after", "-q")
    {
        Description = "As nc -q: once the input has ended (and was half-closed), print replies for at most this long (a bare number is seconds), then quit with exit 0.",
        HelpName = "duration",
        CustomParser = CliValues.OptionalDuration,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Wait);
        command.Options.Add(QuitAfter);
    }
}
