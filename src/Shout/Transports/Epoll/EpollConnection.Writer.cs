using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace Shout.Transports.Epoll;

internal sealed partial class EpollConnection
{
    /// <summary>
    /// The connection's output: a <see cref="PipeWriter"/> straight over the socket. The application
    /// writes into pooled segments; a flush sends them on its own thread, and what the kernel does
    /// not take stays queued for the loop's EPOLLOUT. A flush completes at once while less than
    /// <see cref="EpollSettings.MaxWrite"/> is queued, otherwise it waits (on a reusable value-task
    /// source) until the loop has sent the queue down to half of it: the client's reading paces the
    /// handler. Everything is under one lock, held for the system calls: the flushing thread and the
    /// loop's thread both send, never at once, and always from the queue's head.
    /// </summary>
    private sealed partial class Writer : PipeWriter, IValueTaskSource<FlushResult>
    {
        private readonly EpollConnection _connection;
        private readonly EpollSettings _settings;
        private ManualResetValueTaskSourceCore<FlushResult> _core;
        private CancellationTokenRegistration _cancellation;
        private CancellationToken _waitToken;

        private bool _waiting;    // a flush waits for the queue to go down
        private bool _cancelNext; // CancelPendingFlush came while no flush waited
        private bool _completed;  // the application is done writing: FIN once the queue is sent
        private bool _closed;     // the socket is shut down: writes are dropped

        public Writer(EpollConnection connection, EpollSettings settings)
        {
            _connection = connection;
            _settings = settings;
            _core.RunContinuationsAsynchronously = !settings.Inline;
        }

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes
        {
            get
            {
                lock (this)
                {
                    return _unflushed;
                }
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            lock (this)
            {
                ThrowIfCompleted();
                return Tail(sizeHint);
            }
        }

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            lock (this)
            {
                ThrowIfCompleted();
                Wrote(bytes);
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Exception? failure;
            lock (this)
            {
                ThrowIfCompleted();
                if (_cancelNext)
                {
                    _cancelNext = false;
                    return new(new FlushResult(isCanceled: true, isCompleted: false));
                }

                if (_closed)
                {
                    Drop();
                    return new(new FlushResult(isCanceled: false, isCompleted: true));
                }

                failure = QueueAndSend();
                if (failure is null)
                {
                    if (!Paused)
                    {
                        return new(default(FlushResult));
                    }

                    _waiting = true;
                    _core.Reset();
                    if (cancellationToken.CanBeCanceled)
                    {
                        _waitToken = cancellationToken;
                        _cancellation = cancellationToken.UnsafeRegister(static (s, t) => ((Writer)s!).Cancelled(t), this);
                    }

                    return new(this, _core.Version);
                }
            }

            _connection.Shutdown(failure);
            return new(new FlushResult(isCanceled: false, isCompleted: true));
        }

        public override void CancelPendingFlush()
        {
            lock (this)
            {
                if (!_waiting)
                {
                    _cancelNext = true;
                    return;
                }

                EndWait();
            }

            _core.SetResult(new FlushResult(isCanceled: true, isCompleted: false));
        }

        /// <summary>Sends what was written (flushed or not, as a pipe's reader would see it), then FIN.</summary>
        public override void Complete(Exception? exception = null)
        {
            Exception? failure;
            bool finished;
            lock (this)
            {
                if (_completed)
                {
                    return;
                }

                _completed = true;
                if (_closed || exception is not null)
                {
                    Drop();
                    failure = exception;
                    finished = true;
                }
                else
                {
                    failure = QueueAndSend();
                    finished = failure is not null || _queued == 0;
                }
            }

            if (finished)
            {
                _connection.Shutdown(failure);
            }
        }

        /// <summary>On the loop thread: the socket can take more. Sends the queue; resumes a waiting flush; FIN after the last byte.</summary>
        public void OnWritable()
        {
            bool resume;
            bool finished;
            Exception? failure;
            lock (this)
            {
                _blocked = false;
                if (_closed || _queued == 0)
                {
                    return;
                }

                failure = Send();
                resume = _waiting && (failure is not null || Resumable);
                if (resume)
                {
                    EndWait();
                }

                finished = failure is not null || (_completed && _queued == 0);
            }

            if (finished)
            {
                _connection.Shutdown(failure);
            }

            if (resume)
            {
                _core.SetResult(new FlushResult(isCanceled: false, isCompleted: failure is not null));
            }
        }

        /// <summary>The socket was shut down (abort, reset, or the graceful end): drops the queue; a waiting flush ends completed.</summary>
        public void OnShutdown()
        {
            lock (this)
            {
                _closed = true;
                Drop();
                if (!_waiting)
                {
                    return;
                }

                EndWait();
            }

            _core.SetResult(new FlushResult(isCanceled: false, isCompleted: true));
        }

        FlushResult IValueTaskSource<FlushResult>.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<FlushResult>.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource<FlushResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void Cancelled(CancellationToken token)
        {
            lock (this)
            {
                if (!_waiting || _waitToken != token)
                {
                    return;
                }

                EndWait();
            }

            _core.SetException(new OperationCanceledException(token));
        }

        private void EndWait()
        {
            _waiting = false;
            _waitToken = default;
            _cancellation.Unregister();
            _cancellation = default;
        }

        private void ThrowIfCompleted()
        {
            if (_completed)
            {
                throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
            }
        }
    }
}
