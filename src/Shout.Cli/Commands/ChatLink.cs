using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Shout.Client;
using Shout.Endpoints;

namespace Shout.Cli.Commands;

/// <summary>
/// What <c>shout chat</c> needs of a connection: send a typed line, read reply lines, half-close.
/// A stream transport sends the line with its newline and splits replies at newlines; a message
/// transport (WebSocket) sends each line as one message and shows each reply message as a line.
/// </summary>
internal abstract class ChatLink : IAsyncDisposable
{
    public static async Task<ChatLink> ConnectAsync(ShoutEndpoint endpoint, ShoutClientOptions options, CancellationToken cancellationToken) =>
        endpoint.Transport == ShoutTransport.WebSocket
            ? new MessageChatLink(await ShoutWebSocketClient.ConnectAsync(endpoint, options, cancellationToken))
            : new StreamChatLink(await ShoutConnection.ConnectAsync(endpoint, options, cancellationToken));

    public abstract Task SendLineAsync(string line, CancellationToken cancellationToken);

    /// <summary>
    /// Reply lines, as the server sent their bytes (without the <c>\n</c> and a <c>\r</c> before it),
    /// until the server closes; a failure the user must hear of is thrown.
    /// </summary>
    public abstract IAsyncEnumerable<byte[]> RepliesAsync(CancellationToken cancellationToken);

    /// <summary>A line without its terminator's <c>\r</c>, if it had one.</summary>
    protected static byte[] Line(ReadOnlySpan<byte> line) => (line is [.., (byte)'\r'] ? line[..^1] : line).ToArray();

    public abstract ValueTask HalfCloseAsync();

    public abstract ValueTask DisposeAsync();
}

/// <summary>TCP, TLS, Unix and UDP: newline-terminated lines over the connection's stream.</summary>
internal sealed class StreamChatLink(ShoutConnection connection) : ChatLink
{
    public override async Task SendLineAsync(string line, CancellationToken cancellationToken)
    {
        await connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
        await connection.Stream.FlushAsync(cancellationToken);
    }

    public override async IAsyncEnumerable<byte[]> RepliesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var bytes = new byte[16 * 1024];
        var pending = new ArrayBufferWriter<byte>(bytes.Length);
        while (await ReadAsync(bytes, cancellationToken) is var read and > 0)
        {
            var fresh = bytes.AsMemory(0, read);
            int newline;
            while ((newline = fresh.Span.IndexOf((byte)'\n')) >= 0)
            {
                pending.Write(fresh.Span[..newline]);
                fresh = fresh[(newline + 1)..];
                yield return Line(pending.WrittenSpan);
                pending.ResetWrittenCount();
            }

            pending.Write(fresh.Span);
        }

        if (pending.WrittenCount > 0)
        {
            yield return pending.WrittenSpan.ToArray();
        }
    }

    private async Task<int> ReadAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.Stream.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException)
        {
            // A reset ends the conversation like a close does; the status line says so.
            return 0;
        }
    }

    public override ValueTask HalfCloseAsync() => connection.HalfCloseAsync();

    public override ValueTask DisposeAsync() => connection.DisposeAsync();
}

/// <summary>WebSocket: one message per typed line, one line per reply message.</summary>
internal sealed class MessageChatLink(ShoutWebSocketClient client) : ChatLink
{
    public override async Task SendLineAsync(string line, CancellationToken cancellationToken) =>
        await client.SendAsync(Encoding.UTF8.GetBytes(line), cancellationToken);

    public override async IAsyncEnumerable<byte[]> RepliesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A close code other than a normal end is thrown (WebSocketClosedException): chat reports it and fails.
        while (await client.ReceiveMessageAsync(cancellationToken) is { } message)
        {
            // A message holding several lines is shown as those lines.
            var rest = message.Data.AsMemory();
            int newline;
            while ((newline = rest.Span.IndexOf((byte)'\n')) >= 0 && newline < rest.Length - 1)
            {
                yield return Line(rest.Span[..newline]);
                rest = rest[(newline + 1)..];
            }

            yield return rest.Span is [.., (byte)'\n'] ? Line(rest.Span[..^1]) : rest.ToArray();
        }
    }

    public override async ValueTask HalfCloseAsync() => await client.CloseOutputAsync();

    public override ValueTask DisposeAsync() => client.DisposeAsync();
}
