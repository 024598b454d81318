using System.Net.Sockets;

namespace Shout.Client;

/// <summary>
/// A UDP conversation seen as a stream, so the interactive client works unchanged over UDP: each
/// write is one datagram, each read returns (part of) the next reply datagram. After
/// <see cref="CompleteWrites"/> a read that waits longer than the reply timeout is the end of the
/// stream, since UDP has no close. One reader and one writer may run concurrently.
/// </summary>
internal sealed class DatagramStream(ShoutDatagramClient client, TimeSpan replyTimeout) : MessageStream
{
    // One byte more than a datagram: room mode adds the newline the server leaves off.
    private readonly byte[] _datagram = new byte[ShoutDatagramClient.MaxDatagramSize + 1];
    private int _offset;
    private int _length;
    private readonly CancellationTokenSource _writesCompleted = new();

    /// <summary>No more writes: reads end once no reply has come for the reply timeout.</summary>
    public void CompleteWrites() => _writesCompleted.Cancel();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_length == 0)
        {
            var completed = _writesCompleted.IsCancellationRequested;
            try
            {
                // Until writes complete, wait for a reply without end (but wake when they complete).
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, completed ? CancellationToken.None : _writesCompleted.Token);
                if (await client.ReceiveAsync(_datagram, completed ? replyTimeout : Timeout.InfiniteTimeSpan, wait.Token) is not { } received)
                {
                    return 0;
                }

                if (client.InRoom && received > 0 && _datagram[received - 1] != '\n')
                {
                    // A room-mode server sends each line as a datagram without its newline; a stream has to see where it ends.
                    _datagram[received++] = (byte)'\n';
                }

                (_offset, _length) = (0, received);
            }
            catch (OperationCanceledException) when (!completed && _writesCompleted.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                continue;
            }
            catch (SocketException e)
            {
                throw new IOException(e.Message, e);
            }

            if (_length == 0)
            {
                // An empty reply (to an empty datagram) carries nothing a stream can show.
                continue;
            }
        }

        var count = Math.Min(buffer.Length, _length);
        _datagram.AsMemory(_offset, count).CopyTo(buffer);
        _offset += count;
        _length -= count;
        return count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await client.SendAsync(buffer, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            client.Dispose();
            _writesCompleted.Dispose();
        }

        base.Dispose(disposing);
    }
}
