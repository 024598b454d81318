using Shout.Client;
using Shout.Endpoints;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout send -a udp://…</c>: the message, or each line of stdin, goes out as one datagram and
/// each reply is printed on its own line. A datagram with no reply after every retry is reported
/// on stderr and makes the exit code 1; the other lines are still sent.
/// </summary>
internal static class SendDatagrams
{
    public static async Task<int> RunAsync(ShoutEndpoint endpoint, ShoutClientOptions options, byte[]? message, CancellationToken cancellationToken)
    {
        using var client = await ShoutDatagramClient.ConnectAsync(endpoint, options, cancellationToken);
        await using var stdout = TerminalOutput.OpenStandardOutput();
        var unanswered = 0;
        await foreach (var datagram in StdinLines.ReadAsync(message, cancellationToken))
        {
            if (await client.RequestAsync(datagram, cancellationToken) is { } reply)
            {
                await stdout.WriteAsync(reply, cancellationToken);
                await stdout.WriteAsync("\n"u8.ToArray(), cancellationToken);
                await stdout.FlushAsync(cancellationToken);
            }
            else
            {
                unanswered++;
                await Console.Error.WriteLineAsync(
                    $"shout: no reply from {endpoint} to a {datagram.Length}-byte datagram after {options.Retries + 1} tries, {options.ReplyTimeout.TotalSeconds:0.###} s each");
            }
        }

        return unanswered == 0 ? 0 : 1;
    }
}
