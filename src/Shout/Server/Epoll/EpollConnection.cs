using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Shout.Server.Epoll;

/// <summary>
/// One accepted connection of the epoll transport, with the semantics of Kestrel's socket transport
/// (<c>SocketConnection</c>): the client's FIN completes the input and fires
/// <see cref="ConnectionClosed"/> while replies still flow; a reset completes the input with a
/// <see cref="ConnectionResetException"/>; the application completing its output sends what is left
/// and then FIN; <see cref="Abort(ConnectionAbortedException)"/> shuts the socket down and closes it.
/// <para>
/// Receiving happens only on the owning loop's thread, and only when epoll said the socket is
/// readable (edge-triggered): no receive is tried in advance. A read shorter than the loop's buffer
/// emptied the socket, so the next arrival is a new edge. A read that fills the pipe past its pause
/// threshold stops reading until the application has consumed half of it. Sending happens on
/// whichever thread flushes the output (with inline scheduling, the loop thread itself, straight from
/// the handler); a send the kernel cannot take waits for EPOLLOUT.
/// </para>
/// </summary>
internal sealed partial class EpollConnection : ConnectionContext, IEpollHandler
{
    private const uint HangUp = EpollNative.EpollRdHup | EpollNative.EpollHup | EpollNative.EpollErr;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly EpollLoop _loop;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _gate = new();
    private readonly WritableSignal _writable = new();
    private long _token;
    private Task? _sending;

    // Under _gate.
    private bool _socketDisposed;
    private bool _receiveFinished;
    private TaskCompletionSource? _receiveEnded;
    private volatile Exception? _shutdownReason;

    // The loop thread's alone.
    private bool _receiveDone;
    private bool _readPaused;
    private bool _hangUp;
    private ValueTask<FlushResult> _pendingFlush;
    private Action? _onFlushed;

    private int _writeWaiting;

    /// <param name="socket">The accepted socket, non-blocking.</param>
    /// <param name="fd">Its descriptor.</param>
    /// <param name="loop">The loop that reads it.</param>
    /// <param name="input">The input pipe's options, shared by the loop's connections: the loop resumes a paused writer.</param>
    /// <param name="output">The output pipe's options: read inline by whoever flushes.</param>
    public EpollConnection(Socket socket, int fd, EpollLoop loop, PipeOptions input, PipeOptions output)
    {
        _socket = socket;
        _fd = fd;
        _loop = loop;
        MemoryPool = input.Pool;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        _input = new Pipe(input);
        _output = new Pipe(output);
        _transport = new DuplexPipe(_input.Reader, _output.Writer);
        _connectionClosed = _closed.Token;
    }

    public MemoryPool<byte> MemoryPool { get; }

    public Socket Socket => _socket;

    /// <summary>Starts sending and registers the socket: from here on, what arrives goes into the input.</summary>
    public void Start()
    {
        _sending = SendLoopAsync();
        var error = _loop.Register(_fd, EpollNative.EpollIn | EpollNative.EpollOut | EpollNative.EpollRdHup | EpollNative.EpollEt, this, out _token);
        if (error != 0)
        {
            Abort(new ConnectionAbortedException($"epoll_ctl refused the connection: errno {error}"));
            _loop.Schedule(static c => ((EpollConnection)c!).EndReceive(null), this);
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Shutdown(abortReason);

        // After Shutdown, so the send loop ends with this reason.
        _output.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        _input.Reader.Complete();
        _output.Writer.Complete();
        if (_sending is not null)
        {
            await _sending;
        }

        await ReceiveEndedAsync();
        if (_token != 0)
        {
            _loop.Release(_token);
        }

        _closed.Dispose();
        await base.DisposeAsync();
    }

    public void OnEvents(uint events)
    {
        if ((events & (EpollNative.EpollIn | HangUp)) != 0)
        {
            _hangUp |= (events & HangUp) != 0;
            if (!_receiveDone && !_readPaused)
            {
                Receive();
            }
        }

        if ((events & (EpollNative.EpollOut | EpollNative.EpollErr | EpollNative.EpollHup)) != 0)
        {
            WakeWriter();
        }
    }

    private void Receive()
    {
        var scratch = _loop.Scratch;
        var writer = _input.Writer;
        while (true)
        {
            int received;
            SocketError error;
            try
            {
                received = _socket.Receive(scratch, SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                EndReceive(null);
                return;
            }

            if (error != SocketError.Success)
            {
                if (error == SocketError.WouldBlock)
                {
                    return;
                }

                if (error == SocketError.Interrupted)
                {
                    continue;
                }

                var failure = new SocketException((int)error);
                EndReceive(IsReset(error) ? new ConnectionResetException(failure.Message, failure) : failure);
                return;
            }

            if (received == 0)
            {
                EndReceive(null);
                return;
            }

            writer.Write(scratch.AsSpan(0, received));

            // Kept (not awaited) when it pauses: OnFlushed, its continuation, takes the result once.
#pragma warning disable CA2012
            var flush = writer.FlushAsync();
#pragma warning restore CA2012
            if (!flush.IsCompleted)
            {
                _readPaused = true;
                _pendingFlush = flush;
                flush.GetAwaiter().UnsafeOnCompleted(_onFlushed ??= OnFlushed);
                return;
            }

            var result = flush.GetAwaiter().GetResult();
            if (result.IsCompleted || result.IsCanceled)
            {
                EndReceive(null);
                return;
            }

            if (received < scratch.Length && !_hangUp)
            {
                // A short read emptied the socket: whatever comes next is a new edge.
                return;
            }
        }
    }

    /// <summary>The application consumed enough of a full input (or it was cancelled): on the loop thread.</summary>
    private void OnFlushed()
    {
        var flush = _pendingFlush;
        _pendingFlush = default;
        _readPaused = false;
        FlushResult result;
        try
        {
            // This is the flush's own continuation: it has completed.
#pragma warning disable CA2012
            result = flush.GetAwaiter().GetResult();
#pragma warning restore CA2012
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            EndReceive(null);
            return;
        }

        if (result.IsCompleted || result.IsCanceled)
        {
            EndReceive(null);
        }
        else if (!_receiveDone)
        {
            // Edge-triggered: what arrived while paused raised no new event, so read now.
            Receive();
        }
    }

    /// <summary>Ends receiving, on the loop thread: completes the input and fires <see cref="ConnectionClosed"/>, once.</summary>
    private void EndReceive(Exception? error)
    {
        if (_receiveDone)
        {
            return;
        }

        _receiveDone = true;

        // After a shutdown, its reason is why receiving ended (as in Kestrel's socket transport).
        _input.Writer.Complete(_shutdownReason ?? error);
        ThreadPool.UnsafeQueueUserWorkItem(static c => c.CancelClosed(), this, preferLocal: false);
        lock (_gate)
        {
            _receiveFinished = true;
            _receiveEnded?.TrySetResult();
        }
    }

    /// <summary>After a shutdown, on the loop thread: a paused receive is cancelled (and ends in <see cref="OnFlushed"/>).</summary>
    private void StopReceiving()
    {
        if (_readPaused)
        {
            _input.Writer.CancelPendingFlush();
        }
        else
        {
            EndReceive(null);
        }
    }

    private Task ReceiveEndedAsync()
    {
        lock (_gate)
        {
            return _receiveFinished ? Task.CompletedTask
                : (_receiveEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private void CancelClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: nobody is listening.
        }
    }

    /// <summary>Closes the socket once (FIN both ways, as Kestrel does even for aborts, then close).</summary>
    private void Shutdown(Exception? reason)
    {
        lock (_gate)
        {
            if (_socketDisposed)
            {
                return;
            }

            _socketDisposed = true;
            _shutdownReason = reason ?? new ConnectionAbortedException("The epoll transport's send loop completed gracefully.");

            // Out of the set before the descriptor number can be reused by another connection.
            EpollNative.Remove(_loop.Epoll, _fd);
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already reset or closed by the peer: the close below is all there is to do.
            }

            _socket.Dispose();
        }

        WakeWriter();
        _loop.Schedule(static c => ((EpollConnection)c!).StopReceiving(), this);
    }

    private static bool IsReset(SocketError error) => error is SocketError.ConnectionReset or SocketError.Shutdown;

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
