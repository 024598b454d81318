using System.Buffers;
using System.Net.Sockets;

namespace Shout.Transports.Epoll;

internal sealed partial class EpollConnection
{
    /// <summary>The writer's segments and its send, all under the writer's lock.</summary>
    private sealed partial class Writer
    {
        // The output is a list of pooled segments, _head to _tail. In each, [Sent..Queued) is flushed
        // and waits for the kernel, [Queued..Written) is written and not yet flushed.
        private Segment? _head;
        private Segment? _tail;
        private Segment? _spare;  // kept so a reply per message allocates nothing
        private long _unflushed;
        private long _queued;
        private bool _blocked;    // the kernel took less than offered: only EPOLLOUT sends again
        private bool _memoryOut;  // GetMemory handed out the tail's free space: the tail stays until Advance

        private bool Paused => _settings.MaxWrite > 0 && _queued >= _settings.MaxWrite;

        private bool Resumable => _settings.MaxWrite <= 0 || _queued <= _settings.MaxWrite / 2;

        /// <summary>Free space at the tail, at least <paramref name="sizeHint"/> bytes (a new segment when the tail has less).</summary>
        private Memory<byte> Tail(int sizeHint)
        {
            var wanted = Math.Max(sizeHint, 1);
            if (_tail is null || _tail.Array.Length - _tail.Written < wanted)
            {
                var segment = _spare ?? new Segment();
                _spare = null;
                segment.Array = ArrayPool<byte>.Shared.Rent(Math.Max(wanted, _settings.ReadSize));
                segment.Sent = segment.Queued = segment.Written = 0;
                if (_tail is null)
                {
                    _head = segment;
                }
                else
                {
                    _tail.Next = segment;
                }

                _tail = segment;
            }

            _memoryOut = true;
            return _tail.Array.AsMemory(_tail.Written);
        }

        private void Wrote(int bytes)
        {
            if (bytes < 0 || (bytes > 0 && (_tail is null || bytes > _tail.Array.Length - _tail.Written)))
            {
                throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the memory GetMemory returned.");
            }

            _memoryOut = false;
            if (_tail is not null)
            {
                _tail.Written += bytes;
                _unflushed += bytes;
            }
        }

        /// <summary>Flush: everything written joins the queue, which is sent unless the kernel is full.</summary>
        private Exception? QueueAndSend()
        {
            _memoryOut = false;
            for (var segment = _head; segment is not null; segment = segment.Next)
            {
                segment.Queued = segment.Written;
            }

            _queued += _unflushed;
            _unflushed = 0;
            return _blocked ? null : Send();
        }

        /// <summary>
        /// Sends the queue from its head until it is empty or the kernel takes no more (then EPOLLOUT
        /// says when: edge-triggered, and the lock keeps the loop from looking before the queue is
        /// updated). Sent segments go back to the pool. Null, or why the connection is lost.
        /// </summary>
        private Exception? Send()
        {
            var socket = _connection._handle;
            while (_head is { } segment)
            {
                while (segment.Sent < segment.Queued)
                {
                    int sent;
                    SocketError error;
                    try
                    {
                        sent = EpollNative.Send(socket, segment.Array.AsSpan(segment.Sent, segment.Queued - segment.Sent), out error);
                    }
                    catch (ObjectDisposedException e)
                    {
                        // Shut down by an abort, whose reason is already set.
                        return e;
                    }

                    if (error == SocketError.Success)
                    {
                        segment.Sent += sent;
                        _queued -= sent;
                    }
                    else if (error == SocketError.WouldBlock)
                    {
                        _blocked = true;
                        return null;
                    }
                    else if (error != SocketError.Interrupted)
                    {
                        return Failure(error);
                    }
                }

                if (segment.Queued < segment.Written || (segment == _tail && _memoryOut))
                {
                    // The tail, still being written: it stays.
                    return null;
                }

                _head = segment.Next;
                if (_head is null)
                {
                    _tail = null;
                }

                Free(segment);
            }

            return null;
        }

        /// <summary>Drops every segment (the socket is gone, or the application failed).</summary>
        private void Drop()
        {
            while (_head is { } segment)
            {
                _head = segment.Next;
                Free(segment);
            }

            _tail = null;
            _queued = 0;
            _unflushed = 0;
            _memoryOut = false;
        }

        private void Free(Segment segment)
        {
            ArrayPool<byte>.Shared.Return(segment.Array);
            segment.Array = [];
            segment.Next = null;
            _spare ??= segment;
        }

        private sealed class Segment
        {
            public byte[] Array = [];
            public int Sent;
            public int Queued;
            public int Written;
            public Segment? Next;
        }
    }
}
