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

    /// <summary>Reply lines until the server closes; a failure the user must hear of is thrown.</summary>
    public abstract IAsyncEnumerable<string> RepliesAsync(CancellationToken cancellationToken);

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

    public override async IAsyncEnumerable<string> RepliesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var decoder = Encoding.UTF8.GetDecoder();
        var bytes = new byte[16 * 1024];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        var pending = new StringBuilder();
        while (await ReadAsync(bytes, cancellationToken) is var read and > 0)
        {
            var count = decoder.GetChars(bytes, 0, read, chars, 0);
            pending.Append(chars, 0, count);
            int newline;
            while ((newline = IndexOf(pending, '\n')) >= 0)
            {
                var line = pending.ToString(0, newline).TrimEnd('\r');
                pending.Remove(0, newline + 1);
                yield return line;
            }
        }

        if (pending.Length > 0)
        {
            yield return pending.ToString();
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

/// <summary>WebSocket: one message per typed line, one line per reply message.</summary>
internal sealed class MessageChatLink(ShoutWebSocketClient client) : ChatLink
{
    public override async Task SendLineAsync(string line, CancellationToken cancellationToken) =>
        await client.SendAsync(Encoding.UTF8.GetBytes(line), cancellationToken);

    public override async IAsyncEnumerable<string> RepliesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A close code other than a normal end is thrown (WebSocketClosedException): chat reports it and fails.
        while (await client.ReceiveMessageAsync(cancellationToken) is { } message)
        {
            yield return Encoding.UTF8.GetString(message.Data);
        }
    }

    public override async ValueTask HalfCloseAsync() => await client.CloseOutputAsync();

    public override ValueTask DisposeAsync() => client.DisposeAsync();
}
