using System.Net.WebSockets;
using System.Text;
using Shout.Client;

namespace Shout.Cli.Commands;

/// <summary>
/// <c>shout chat</c>'s connection in a room, which survives a drop: when the connection ends without
/// the user leaving and without the server's <c>QUIT</c>, and the room gave a position
/// (<see cref="ChatPosition"/>), it dials again (backing off, for up to <see cref="GiveUpAfter"/>),
/// takes its nickname back and sends <c>/resume ROOM OFFSET EPOCH</c>. What the new connection says
/// before <c>OK resume</c> (its greeting and the default room's history) is superseded and not shown;
/// the missed lines follow it, each once. A resume the server refuses (another instance, a restart:
/// another epoch) is said in one status line and the room is joined again, history and all. Lines
/// typed meanwhile wait and are sent once the connection is back. Outside room mode nothing changes:
/// a connection that ends ends the chat.
/// </summary>
internal sealed class ResumingChat(ChatLink first, Func<CancellationToken, Task<ChatLink>> dial, ChatConsole console) : IAsyncDisposable
{
    /// <summary>How long to keep dialing after a drop before the chat ends.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(2);

    private readonly ChatPosition _position = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private ChatLink _link = first;
    private TaskCompletionSource _connected = Open();
    private volatile bool _leaving;
    private bool _serverQuit;
    private bool _resuming;

    /// <summary>Sends a typed line on the current connection; while the chat reconnects, once it is back.</summary>
    public async Task SendLineAsync(string line, CancellationToken cancellationToken)
    {
        if (ChatPosition.IsQuit(line))
        {
            _leaving = true;
        }

        while (true)
        {
            await _connected.Task.WaitAsync(cancellationToken);
            await _sending.WaitAsync(cancellationToken);
            try
            {
                if (!_connected.Task.IsCompleted)
                {
                    continue;
                }

                _position.Sent(line);
                await _link.SendLineAsync(line, cancellationToken);
                return;
            }
            catch (Exception e) when (e is IOException or WebSocketException or ObjectDisposedException && !_leaving && _position.Known)
            {
                // The connection dropped under the write: the line goes again on the next one, once the
                // receive side has seen the drop and dials again.
                _position.Reset();
                await Task.Delay(FirstRetry, cancellationToken);
            }
            finally
            {
                _sending.Release();
            }
        }
    }

    /// <summary>Reply lines across reconnects, until the server or the user ends the chat.</summary>
    public async IAsyncEnumerable<byte[]> RepliesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            await using (var replies = _link.RepliesAsync(cancellationToken).GetAsyncEnumerator(cancellationToken))
            {
                while (await NextAsync(replies) is { } line)
                {
                    if (_resuming)
                    {
                        // Superseded by the resume, up to and including its answer.
                        await EndResumeAsync(line, cancellationToken);
                        continue;
                    }

                    _position.Observe(line);
                    _serverQuit |= line.AsSpan().SequenceEqual("QUIT"u8);
                    yield return line;
                }
            }

            if (_leaving || _serverQuit || !_position.Known || cancellationToken.IsCancellationRequested || !await ReconnectAsync(cancellationToken))
            {
                yield break;
            }
        }
    }

    /// <summary>The user is done (Ctrl+D): no reconnect after this.</summary>
    public ValueTask HalfCloseAsync()
    {
        _leaving = true;
        return _link.HalfCloseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _link.DisposeAsync();
        _sending.Dispose();
    }

    /// <summary>The next reply; null at the end, and at a drop once a position lets the chat resume.</summary>
    private async Task<byte[]?> NextAsync(IAsyncEnumerator<byte[]> replies)
    {
        try
        {
            return await replies.MoveNextAsync() ? replies.Current : null;
        }
        catch (Exception e) when (e is IOException or WebSocketException or WebSocketClosedException && _position.Known && !_leaving)
        {
            return null;
        }
    }

    /// <summary>While resuming: <c>OK resume</c> ends it; a refusal ends it and joins the room again.</summary>
    private async Task EndResumeAsync(byte[] line, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetString(line);
        if (text.StartsWith("OK resume ", StringComparison.Ordinal))
        {
            _resuming = false;
            console.Status($"resumed in {_position.Room}");
        }
        else if (text.StartsWith("ERR ", StringComparison.Ordinal) && text.Contains("resume", StringComparison.Ordinal))
        {
            _resuming = false;
            console.Status($"could not resume ({text[4..]}); joining {_position.Room} again");

            // As a typed line would go: in turn with the user's, its answer expected.
            await SendLineAsync("/join " + _position.Room, cancellationToken);
        }
    }

    private async Task<bool> ReconnectAsync(CancellationToken cancellationToken)
    {
        _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        console.Status($"connection lost; reconnecting to resume {_position.Room}");
        var deadline = DateTime.UtcNow + GiveUpAfter;
        var wait = FirstRetry;
        while (true)
        {
            try
            {
                var link = await dial(cancellationToken);
                await _link.DisposeAsync();
                _link = link;
                break;
            }
            catch (Exception e) when (ClientErrors.IsConnectionFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow + wait > deadline)
                {
                    console.Status($"could not reconnect for {GiveUpAfter.TotalSeconds:0} s: {e.Message}");
                    _connected.TrySetException(new IOException("the connection was lost"));
                    return false;
                }

                await Task.Delay(wait, cancellationToken);
                wait = wait * 2 > LongestRetry ? LongestRetry : wait * 2;
            }
        }

        // Its name back first, then the lines it missed; what the new connection says before them is superseded.
        _resuming = true;
        _position.Reset();
        if (_position.Nick is { } nick)
        {
            await _link.SendLineAsync("/nick " + nick, cancellationToken);
        }

        await _link.SendLineAsync(_position.ResumeLine, cancellationToken);
        _connected.TrySetResult();
        return true;
    }

    private static TaskCompletionSource Open()
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connected.TrySetResult();
        return connected;
    }
}
