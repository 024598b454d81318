using System.Buffers;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Shout.Server.Epoll;

internal sealed partial class EpollConnection
{
    /// <summary>Writes the output to the socket until the application completes it or the connection is shut down.</summary>
    private async Task SendLoopAsync()
    {
        Exception? shutdownReason = null;
        Exception? unexpected = null;
        var output = _output.Reader;
        try
        {
            while (true)
            {
                var result = await output.ReadAsync();
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    buffer = buffer.Slice(SendSome(buffer));
                    if (!buffer.IsEmpty)
                    {
                        await WaitWritableAsync();
                    }
                }

                output.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (IsReset(e.SocketErrorCode))
        {
            shutdownReason = new ConnectionResetException(e.Message, e);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The socket was shut down by an abort, whose reason is already set.
            shutdownReason = e;
        }
        catch (Exception e)
        {
            shutdownReason = e;
            unexpected = e;
            _loop.ConnectionFailed(ConnectionId, e);
        }
        finally
        {
            Shutdown(shutdownReason);
            output.Complete(unexpected);
        }
    }

    /// <summary>Sends until the kernel takes no more; the bytes sent. One system call per segment in the common case.</summary>
    private long SendSome(in ReadOnlySequence<byte> buffer)
    {
        long sent = 0;
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                var n = _socket.Send(span, SocketFlags.None, out var error);
                if (error == SocketError.Success)
                {
                    span = span[n..];
                    sent += n;
                }
                else if (error == SocketError.WouldBlock)
                {
                    return sent;
                }
                else if (error != SocketError.Interrupted)
                {
                    throw new SocketException((int)error);
                }
            }
        }

        return sent;
    }

    /// <summary>Completes when the socket can take more (an EPOLLOUT edge), or at once when it already can.</summary>
    private ValueTask WaitWritableAsync()
    {
        _writable.Reset();
        Volatile.Write(ref _writeWaiting, 1);

        // Edge-triggered: an EPOLLOUT that came before the flag was set woke nobody, so look now.
        bool ready;
        try
        {
            ready = _socketDisposed || _socket.Poll(0, SelectMode.SelectWrite);
        }
        catch (ObjectDisposedException)
        {
            ready = true;
        }

        return ready && Interlocked.Exchange(ref _writeWaiting, 0) == 1 ? ValueTask.CompletedTask : _writable.Task;
    }

    /// <summary>Resumes a send waiting for room (from the loop on EPOLLOUT, or from a shutdown).</summary>
    private void WakeWriter()
    {
        if (Volatile.Read(ref _writeWaiting) != 0 && Interlocked.Exchange(ref _writeWaiting, 0) == 1)
        {
            _writable.Set();
        }
    }
}
