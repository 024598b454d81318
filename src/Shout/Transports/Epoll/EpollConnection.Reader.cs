using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace Shout.Transports.Epoll;

internal sealed partial class EpollConnection
{
    /// <summary>
    /// The connection's input: a <see cref="PipeReader"/> straight over the socket. A read returns
    /// the unexamined bytes it holds, or receives (one system call) into its buffer, or, when the
    /// socket has nothing, waits for the loop's EPOLLIN on a reusable value-task source: the loop
    /// then receives and completes it. The buffer is rented for the bytes it holds and returned when
    /// the application has consumed them all, so an idle connection holds none. Everything is under
    /// one lock, held only for a system call: the application's thread and the loop's thread both
    /// receive, never at once.
    /// </summary>
    private sealed partial class Reader : PipeReader, IValueTaskSource<ReadResult>
    {
        private readonly EpollConnection _connection;
        private readonly EpollSettings _settings;
        private ManualResetValueTaskSourceCore<ReadResult> _core;
        private CancellationTokenRegistration _cancellation;
        private CancellationToken _waitToken;

        private bool _reading;    // a result is out, until its AdvanceTo
        private bool _waiting;    // a ReadAsync waits for the loop
        private bool _cancelNext; // CancelPendingRead came while nobody waited
        private bool _completed;  // the application is done reading

        public Reader(EpollConnection connection, EpollSettings settings)
        {
            _connection = connection;
            _settings = settings;
            _core.RunContinuationsAsynchronously = !settings.Inline;
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (this)
            {
                ThrowIfBusy();
                if (TryTake(out var result, out var failure))
                {
                    _reading = failure is null;
                    return failure is null ? new(result) : ValueTask.FromException<ReadResult>(failure);
                }

                _waiting = true;
                _core.Reset();
                if (cancellationToken.CanBeCanceled)
                {
                    _waitToken = cancellationToken;
                    _cancellation = cancellationToken.UnsafeRegister(static (s, t) => ((Reader)s!).Cancelled(t), this);
                }

                return new(this, _core.Version);
            }
        }

        public override bool TryRead(out ReadResult result)
        {
            lock (this)
            {
                ThrowIfBusy();
                if (!TryTake(out result, out var failure))
                {
                    return false;
                }

                if (failure is not null)
                {
                    throw failure;
                }

                _reading = true;
                return true;
            }
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            lock (this)
            {
                if (!_reading)
                {
                    throw new InvalidOperationException("No reading operation to complete.");
                }

                _reading = false;
                Consume(consumed, examined);

                // A hang-up reported while the application held its result: find the FIN now, so
                // ConnectionClosed fires even if the application does not read again soon.
                if (_hangUp && !_completed)
                {
                    _ = Receive();
                }
            }
        }

        public override void CancelPendingRead()
        {
            ReadResult result;
            lock (this)
            {
                if (!_waiting)
                {
                    _cancelNext = true;
                    return;
                }

                EndWait();
                _reading = true;
                result = new ReadResult(Current, isCanceled: true, isCompleted: false);
            }

            _core.SetResult(result);
        }

        public override void Complete(Exception? exception = null)
        {
            lock (this)
            {
                _completed = true;
                _reading = false;
                ReturnBuffer();
            }
        }

        /// <summary>On the loop thread: the socket is readable (or hung up). Completes a waiting read, or finds a FIN.</summary>
        public void OnReadable(bool hangUp)
        {
            ReadResult result;
            Exception? failure;
            lock (this)
            {
                _hangUp |= hangUp;
                _drained = false;
                if (!_waiting)
                {
                    // The next read receives by itself; only a FIN is looked for now (it fires ConnectionClosed).
                    if (_hangUp && !_reading && !_completed)
                    {
                        _ = Receive();
                    }

                    return;
                }

                if (!TryTake(out result, out failure))
                {
                    return;
                }

                EndWait();
                _reading = failure is null;
            }

            Finish(result, failure);
        }

        /// <summary>On the loop thread, after the socket was shut down: receiving ends with the shutdown's reason.</summary>
        public void OnShutdown()
        {
            ReadResult result;
            Exception? failure;
            lock (this)
            {
                End(null);
                if (!_waiting || !TryTake(out result, out failure))
                {
                    return;
                }

                EndWait();
                _reading = failure is null;
            }

            Finish(result, failure);
        }

        ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void Cancelled(CancellationToken token)
        {
            lock (this)
            {
                // A registration that fired late belongs to an earlier read unless the token is this read's.
                if (!_waiting || _waitToken != token)
                {
                    return;
                }

                EndWait();
            }

            _core.SetException(new OperationCanceledException(token));
        }

        /// <summary>
        /// What a read returns now, under the lock: a cancellation asked for, the unexamined bytes,
        /// the end, or what one receive brings. False: nothing yet, wait for the loop.
        /// </summary>
        private bool TryTake(out ReadResult result, out Exception? failure)
        {
            result = default;
            failure = null;
            if (_cancelNext)
            {
                _cancelNext = false;
                result = new ReadResult(Current, isCanceled: true, isCompleted: false);
                return true;
            }

            if (_ended || HasUnexamined || Receive() != Outcome.Wait)
            {
                failure = _failure;
                result = new ReadResult(Current, isCanceled: false, isCompleted: _ended);
                return true;
            }

            return false;
        }

        private void EndWait()
        {
            _waiting = false;
            _waitToken = default;
            _cancellation.Unregister();
            _cancellation = default;
        }

        private void Finish(in ReadResult result, Exception? failure)
        {
            if (failure is null)
            {
                _core.SetResult(result);
            }
            else
            {
                _core.SetException(failure);
            }
        }

        private void ThrowIfBusy()
        {
            if (_completed)
            {
                throw new InvalidOperationException("Reading is not allowed after the reader was completed.");
            }

            if (_reading || _waiting)
            {
                throw new InvalidOperationException("Reading is already in progress.");
            }
        }
    }
}
