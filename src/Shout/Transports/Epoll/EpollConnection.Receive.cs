using System.Buffers;
using System.Net.Sockets;

namespace Shout.Transports.Epoll;

internal sealed partial class EpollConnection
{
    /// <summary>The reader's buffer and its receive, all under the reader's lock.</summary>
    private sealed partial class Reader
    {
        private enum Outcome
        {
            Data,
            Ended,
            Wait,
        }

        // Bytes received and not yet consumed are _buffer[_start.._end).
        private byte[]? _buffer;
        private int _start;
        private int _end;
        private bool _examined;   // the application examined every byte it holds: a read needs new ones
        private bool _hangUp;     // epoll reported a hang-up: receive until the FIN, not until a short read
        private bool _drained;    // the last receive emptied the socket: only the next EPOLLIN edge brings more
        private bool _ended;      // receiving is over: FIN, reset or shutdown
        private Exception? _failure;

        private ReadOnlySequence<byte> Current => _end > _start ? new ReadOnlySequence<byte>(_buffer!, _start, _end - _start) : ReadOnlySequence<byte>.Empty;

        private bool HasUnexamined => _end > _start && !_examined;

        /// <summary>
        /// One receive into the free space after the held bytes (compacting or growing the buffer
        /// first when it is full, up to <see cref="EpollSettings.MaxRead"/> held bytes), only while no
        /// result is out. Wait: the socket is empty (EAGAIN, or a short read emptied it; epoll reports
        /// the next arrival, so no receive is tried before it: one system call per message, as a C
        /// server), or the held bytes reached the limit (nothing is received until the application
        /// consumes).
        /// </summary>
        private Outcome Receive()
        {
            if (_ended)
            {
                return Outcome.Ended;
            }

            if (_drained)
            {
                return Outcome.Wait;
            }

            var space = MakeRoom();
            if (space == 0)
            {
                return Outcome.Wait;
            }

            var outcome = Outcome.Wait;
            while (space > 0)
            {
                int received;
                SocketError error;
                try
                {
                    received = EpollNative.Receive(_connection._handle, _buffer.AsSpan(_end, space), out error);
                }
                catch (ObjectDisposedException)
                {
                    End(null);
                    return Outcome.Ended;
                }

                if (error == SocketError.Interrupted)
                {
                    continue;
                }

                if (error == SocketError.WouldBlock)
                {
                    _drained = true;
                    break;
                }

                if (error != SocketError.Success || received == 0)
                {
                    End(error == SocketError.Success ? null : Failure(error));
                    return Outcome.Ended;
                }

                _end += received;
                _examined = false;
                outcome = Outcome.Data;

                // Edge-triggered: a short read emptied the socket; what comes after it raises a new
                // edge. After a hang-up there is no next edge, so read on to the FIN.
                if (!_hangUp)
                {
                    _drained = received < space;
                    break;
                }

                space -= received;
            }

            if (_end == _start)
            {
                ReturnBuffer();
            }

            return outcome;
        }

        /// <summary>Free bytes after the held ones, making some when the buffer is full and under the limit.</summary>
        private int MakeRoom()
        {
            var held = _end - _start;
            var allowed = (int)Math.Min(_settings.MaxRead - held, int.MaxValue);
            if (allowed <= 0)
            {
                return 0;
            }

            if (_buffer is null)
            {
                _buffer = ArrayPool<byte>.Shared.Rent(_settings.ReadSize);
                _start = _end = 0;
            }
            else if (_end == _buffer.Length)
            {
                if (_start > 0)
                {
                    // No result is out, so the held bytes may move to the front.
                    _buffer.AsSpan(_start, held).CopyTo(_buffer);
                }
                else
                {
                    // A whole buffer is held and unconsumed (a long line): grow, bounded by the limit.
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)_buffer.Length * 2, _settings.MaxRead));
                    _buffer.AsSpan(0, held).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = larger;
                }

                _start = 0;
                _end = held;
            }

            return Math.Min(_buffer.Length - _end, allowed);
        }

        /// <summary>The application's AdvanceTo: drops the consumed bytes; the buffer goes back to the pool when none is left.</summary>
        private void Consume(SequencePosition consumed, SequencePosition examined)
        {
            if (_end == _start)
            {
                return;
            }

            if (consumed.GetObject() != _buffer || examined.GetObject() != _buffer)
            {
                throw new ArgumentOutOfRangeException(nameof(consumed), "The position is not from the last read's buffer.");
            }

            var consumedAt = consumed.GetInteger();
            var examinedAt = examined.GetInteger();
            if (consumedAt < _start || consumedAt > _end || examinedAt < consumedAt || examinedAt > _end)
            {
                throw new ArgumentOutOfRangeException(nameof(consumed), "The position is outside the last read's buffer.");
            }

            _start = consumedAt;
            _examined = examinedAt == _end;
            if (_start == _end)
            {
                ReturnBuffer();
            }
        }

        /// <summary>Receiving is over, once: after a shutdown its reason is why (as in Kestrel's socket transport).</summary>
        private void End(Exception? error)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _failure = _connection.ShutdownReason ?? error;
            _connection.ReceiveEnded();
        }

        private void ReturnBuffer()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }

            _start = _end = 0;
        }
    }
}
