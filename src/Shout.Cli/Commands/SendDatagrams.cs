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
        await using var stdout = Console.OpenStandardOutput();
        var unanswered = 0;
        await foreach (var datagram in Datagrams(message, cancellationToken))
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

    /// <summary>The message, or stdin split at '\n' (the newline, and a '\r' before it, not sent).</summary>
    private static async IAsyncEnumerable<byte[]> Datagrams(byte[]? message, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (message is not null)
        {
            yield return message;
            yield break;
        }

        await using var stdin = Console.OpenStandardInput();
        var pending = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await stdin.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != '\n')
                {
                    continue;
                }

                pending.Write(buffer, start, i - start);
                start = i + 1;
                yield return TrimCarriageReturn(pending.ToArray());
                pending.SetLength(0);
            }

            pending.Write(buffer, start, read - start);
        }

        if (pending.Length > 0)
        {
            yield return TrimCarriageReturn(pending.ToArray());
        }
    }

    private static byte[] TrimCarriageReturn(byte[] line) => line is [.., (byte)'\r'] ? line[..^1] : line;
}
