using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Shout.IntegrationTests.Infrastructure;
using Shout.Transports.Epoll;
using Shout.Transports;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The epoll connection's own <see cref="PipeReader"/> and <see cref="PipeWriter"/> (no Pipe in
/// between) keep the pipe contract Kestrel and the handlers rely on, over real loopback sockets:
/// partial consumption, examined-to-the-end waits for new bytes, cancellation, the input bound, a
/// reply larger than the kernel takes (backpressure), FIN and reset while a reply is pending. Each
/// with the continuations inline on the loop thread and on the thread pool.
/// </summary>
public sealed class EpollPipeContractTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Unconsumed_bytes_stay_and_a_read_examined_to_the_end_waits_for_new_ones(bool inline)
    {
        await using var pair = await Pair.OpenAsync(inline);
        var input = pair.Connection.Transport.Input;
        await pair.Client.SendAsync("hello world"u8.ToArray());
        var first = await ReadAtLeastAsync(input, 11);
        Assert.Equal("hello world", Text(first.Buffer));

        // "hello " consumed, the rest only looked at: the next read returns it at once.
        input.AdvanceTo(first.Buffer.GetPosition(6), first.Buffer.GetPosition(6));
        var again = input.ReadAsync();
        Assert.True(again.IsCompleted, "unexamined bytes did not come back at once");
        var second = await again;
        Assert.Equal("world", Text(second.Buffer));

        // Now examined to the end: the read must wait for new bytes, then return old and new together.
        input.AdvanceTo(second.Buffer.Start, second.Buffer.End);
        var waiting = input.ReadAsync();
        Assert.False(waiting.IsCompleted, "a read examined to the end returned without new bytes");
        await pair.Client.SendAsync("!"u8.ToArray());
        var third = await waiting.AsTask().WaitAsync(Timeout);
        Assert.Equal("world!", Text(third.Buffer));
        input.AdvanceTo(third.Buffer.End);

        await pair.Client.SendAsync("x"u8.ToArray());
        var fourth = await ReadAtLeastAsync(input, 1);
        Assert.Equal("x", Text(fourth.Buffer));
        input.AdvanceTo(fourth.Buffer.End);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CancelPendingRead_ends_a_waiting_read_or_the_next_one_and_reading_goes_on(bool inline)
    {
        await using var pair = await Pair.OpenAsync(inline);
        var input = pair.Connection.Transport.Input;
        var waiting = input.ReadAsync();
        Assert.False(waiting.IsCompleted);
        input.CancelPendingRead();
        var cancelled = await waiting.AsTask().WaitAsync(Timeout);
        Assert.True(cancelled.IsCanceled);
        Assert.False(cancelled.IsCompleted);
        input.AdvanceTo(cancelled.Buffer.End);

        input.CancelPendingRead();
        var next = input.ReadAsync();
        Assert.True(next.IsCompleted, "a cancellation asked for before the read did not end it");
        var early = await next;
        Assert.True(early.IsCanceled);
        input.AdvanceTo(early.Buffer.End);

        await pair.Client.SendAsync("after"u8.ToArray());
        var data = await ReadAtLeastAsync(input, 5);
        Assert.False(data.IsCanceled);
        Assert.Equal("after", Text(data.Buffer));
        input.AdvanceTo(data.Buffer.End);

        using var token = new CancellationTokenSource();
        var tokened = input.ReadAsync(token.Token);
        await token.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tokened.AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Input_held_unconsumed_stops_at_the_read_limit_and_flows_again_once_consumed(bool inline)
    {
        await using var pair = await Pair.OpenAsync(inline);
        var input = pair.Connection.Transport.Input;
        var limit = (int)pair.ReadBufferLimit;
        var payload = Payload(16 * limit);
        var sending = pair.Client.SendAsync(payload);

        // Examine everything, consume nothing, until the held bytes reach the limit.
        ReadResult result;
        while (true)
        {
            result = await input.ReadAsync().AsTask().WaitAsync(Timeout);
            Assert.True(result.Buffer.Length <= limit, $"{result.Buffer.Length} bytes held, more than the limit {limit}");
            if (result.Buffer.Length == limit)
            {
                break;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        Assert.False(input.TryRead(out _), "the reader received past its limit");

        // Examined to the end at the limit: a read waits (as a paused pipe's does) until cancelled.
        var waiting = input.ReadAsync();
        Assert.False(waiting.IsCompleted, "the reader received past its limit");
        input.CancelPendingRead();
        var held = await waiting.AsTask().WaitAsync(Timeout);
        Assert.True(held.IsCanceled);
        Assert.Equal(limit, held.Buffer.Length);
        var received = new List<byte>(payload.Length);
        received.AddRange(held.Buffer.ToArray());
        input.AdvanceTo(held.Buffer.End);
        while (received.Count < payload.Length)
        {
            var read = await input.ReadAsync().AsTask().WaitAsync(Timeout);
            received.AddRange(read.Buffer.ToArray());
            input.AdvanceTo(read.Buffer.End);
        }

        await sending.WaitAsync(Timeout);
        Assert.Equal(payload, received.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_reply_larger_than_the_kernel_takes_waits_for_the_client_then_arrives_whole(bool inline)
    {
        await using var pair = await Pair.OpenAsync(inline, clientReceiveBuffer: 64 * 1024);
        var output = pair.Connection.Transport.Output;
        var payload = Payload(16 * 1024 * 1024);
        Write(output, payload);
        Assert.Equal(payload.Length, output.UnflushedBytes);

        // The client reads nothing yet: the kernel cannot take 16 MiB, so the flush waits.
        var flush = output.FlushAsync();
        Assert.False(flush.IsCompleted, "the flush completed while the client read nothing");
        Assert.Equal(0, output.UnflushedBytes);

        var reading = RawClient.ReadExactlyAsync(pair.Client, payload.Length, TimeSpan.FromSeconds(60));
        var result = await flush.AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(result.IsCompleted);
        Assert.False(result.IsCanceled);
        Assert.Equal(payload, await reading);

        // Small replies after it go out at once.
        await output.WriteAsync("tail"u8.ToArray());
        Assert.Equal("tail", Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(pair.Client, 4)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FIN_while_a_reply_is_pending_fires_ConnectionClosed_and_the_reply_still_arrives_then_FIN(bool inline)
    {
        await using var pair = await Pair.OpenAsync(inline, clientReceiveBuffer: 64 * 1024);
        var connection = pair.Connection;
        await pair.Client.SendAsync("abc"u8.ToArray());
        var read = await ReadAtLeastAsync(connection.Transport.Input, 3);
        connection.Transport.Input.AdvanceTo(read.Buffer.End);

        var payload = Payload(8 * 1024 * 1024);
        Write(connection.Transport.Output, payload);
        var flush = connection.Transport.Output.FlushAsync();
        Assert.False(flush.IsCompleted);

        // The handler is stuck in its flush and not reading: the FIN is still noticed.
        pair.Client.Shutdown(SocketShutdown.Send);
        await WhenCancelledAsync(connection.ConnectionClosed);

        var reading = RawClient.ReadToEndAsync(pair.Client, TimeSpan.FromSeconds(60));
        Assert.False((await flush.AsTask().WaitAsync(TimeSpan.FromSeconds(60))).IsCompleted);
        var end = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
        connection.Transport.Input.AdvanceTo(end.Buffer.End);
        await connection.Transport.Output.CompleteAsync();
        Assert.Equal(payload, await reading);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reset_while_a_reply_is_pending_completes_the_flush_and_fails_the_input_with_ConnectionResetException(bool inline)
    {
        await using var pair = await Pair.OpenAsync(inline, clientReceiveBuffer: 64 * 1024);
        var connection = pair.Connection;
        Write(connection.Transport.Output, Payload(8 * 1024 * 1024));
        var flush = connection.Transport.Output.FlushAsync();
        Assert.False(flush.IsCompleted);
        var reading = connection.Transport.Input.ReadAsync();
        Assert.False(reading.IsCompleted);

        pair.Client.LingerState = new LingerOption(true, 0);
        pair.Client.Close();

        Assert.True((await flush.AsTask().WaitAsync(Timeout)).IsCompleted, "the flush did not end with the connection");
        await Assert.ThrowsAsync<ConnectionResetException>(() => reading.AsTask().WaitAsync(Timeout));
        await WhenCancelledAsync(connection.ConnectionClosed);
    }

    private static void Write(PipeWriter output, byte[] payload)
    {
        // In the pieces a handler writes, each into the memory the writer hands out.
        for (var offset = 0; offset < payload.Length;)
        {
            var memory = output.GetMemory(1);
            var n = Math.Min(memory.Length, payload.Length - offset);
            payload.AsSpan(offset, n).CopyTo(memory.Span);
            output.Advance(n);
            offset += n;
        }
    }

    private static byte[] Payload(int length)
    {
        var payload = new byte[length];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 7 + (i >> 11));
        }

        return payload;
    }

    private static string Text(ReadOnlySequence<byte> buffer) => Encoding.ASCII.GetString(buffer);

    private static async Task<ReadResult> ReadAtLeastAsync(PipeReader input, int count)
    {
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(Timeout);
            if (result.Buffer.Length >= count || result.IsCompleted)
            {
                return result;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static Task WhenCancelledAsync(CancellationToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => fired.TrySetResult());
        return fired.Task.WaitAsync(Timeout, CancellationToken.None);
    }

    /// <summary>An epoll transport with one accepted connection and its loopback client.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private readonly EpollTransportFactory _factory;
        private readonly IConnectionListener _listener;

        private Pair(long readBufferLimit, EpollTransportFactory factory, IConnectionListener listener, Socket client, ConnectionContext connection)
        {
            ReadBufferLimit = readBufferLimit;
            _factory = factory;
            _listener = listener;
            Client = client;
            Connection = connection;
        }

        /// <summary>The input pipe's limit the transport was made with.</summary>
        public long ReadBufferLimit { get; }

        public Socket Client { get; }

        public ConnectionContext Connection { get; }

        /// <param name="inline">Inline scheduling: the loop thread continues the application, or the thread pool does.</param>
        /// <param name="clientReceiveBuffer">The client's receive buffer, or 0 for the default.</param>
        public static async Task<Pair> OpenAsync(bool inline, int clientReceiveBuffer = 0)
        {
            var tuning = new SocketTuning { InlineScheduling = inline };
            var factory = new EpollTransportFactory(tuning, 64 * 1024, new ListenSockets([], reusePort: false), new BlockMemoryPoolFactory(64 * 1024, TimeProvider.System),
                NullLoggerFactory.Instance);
            var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (clientReceiveBuffer > 0)
            {
                // Before connecting, so the window stays small: the server's sends meet a full socket.
                client.ReceiveBufferSize = clientReceiveBuffer;
            }

            await client.ConnectAsync((IPEndPoint)listener.EndPoint).WaitAsync(Timeout);
            var connection = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout)) ?? throw new InvalidOperationException("the listener ended");
            Assert.IsType<EpollConnection>(connection);
            return new Pair(64 * 1024, factory, listener, client, connection);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            Connection.Abort();
            await Connection.DisposeAsync().AsTask().WaitAsync(Timeout);
            await _listener.DisposeAsync();
            _factory.Dispose();
        }
    }
}
