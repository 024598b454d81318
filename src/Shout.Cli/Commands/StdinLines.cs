namespace Shout.Cli.Commands;

/// <summary>
/// The message, or stdin split at '\n' (the newline, and a '\r' before it, not sent): the units a
/// message transport sends, one datagram (UDP) or one message (WebSocket) each.
/// </summary>
internal static class StdinLines
{
    public static async IAsyncEnumerable<byte[]> ReadAsync(byte[]? message, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
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
