using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Shout.IntegrationTests.Infrastructure;

using static Shout.IntegrationTests.Transports.EpollHarness;
using Shout.Transports.Epoll;
using Shout.Transports;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The epoll transport on its own, as Kestrel drives it: bind, accept, the connection's pipes, and
/// the socket semantics of Kestrel's socket transport (FIN, reset, abort, unbind).
/// </summary>
public sealed class EpollTransportTests
{
    private static readonly TimeSpan Timeout = EpollHarness.Wait;

    [Fact]
    public void Binds_TCP_and_Unix_endpoints_and_descriptors_passed_by_systemd_or_a_handover()
    {
        // Every stream listener runs on epoll; PassedSocketTransportTests serves a passed one.
        using var factory = Factory();
        Assert.True(factory.CanBind(new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.True(factory.CanBind(new UnixDomainSocketEndPoint("/tmp/x.sock")));
        Assert.True(factory.CanBind(new FileHandleEndPoint(3, FileHandleType.Auto)));
    }

    [Fact]
    public async Task Reads_what_arrives_and_sends_what_the_application_writes()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = await ConnectAsync(listener.EndPoint);
        await using var connection = await AcceptAsync(listener);

        Assert.IsType<EpollConnection>(connection);
        Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);
        Assert.NotNull(connection.Features.Get<IConnectionSocketFeature>()?.Socket);
        await client.SendAsync("ping"u8.ToArray());
        Assert.Equal("ping", await ReadAsync(connection.Transport.Input, 4));
        await connection.Transport.Output.WriteAsync("PONG"u8.ToArray());
        Assert.Equal("PONG", Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(client, 4)));
    }

    [Fact]
    public async Task Client_FIN_completes_the_input_and_fires_ConnectionClosed_while_replies_still_flow_then_FIN()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = await ConnectAsync(listener.EndPoint);
        await using var connection = await AcceptAsync(listener);

        await client.SendAsync("abc"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        var input = connection.Transport.Input;
        var received = new StringBuilder();
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(Timeout);
            received.Append(Encoding.ASCII.GetString(result.Buffer));
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal("abc", received.ToString());
        await WhenCancelledAsync(connection.ConnectionClosed);
        await connection.Transport.Output.WriteAsync("ABC"u8.ToArray());
        await connection.Transport.Output.CompleteAsync();
        Assert.Equal("ABC", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(client)));
    }

    [Fact]
    public async Task Client_reset_completes_the_input_with_ConnectionResetException()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var client = await ConnectAsync(listener.EndPoint);
        await using var connection = await AcceptAsync(listener);

        await client.SendAsync("x"u8.ToArray());
        Assert.Equal("x", await ReadAsync(connection.Transport.Input, 1));
        client.LingerState = new LingerOption(true, 0);
        client.Dispose();

        await Assert.ThrowsAsync<ConnectionResetException>(async () =>
        {
            while (true)
            {
                var result = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
                connection.Transport.Input.AdvanceTo(result.Buffer.End);
                Assert.False(result.IsCompleted, "the input ended without the reset");
            }
        });
        await WhenCancelledAsync(connection.ConnectionClosed);
    }

    [Fact]
    public async Task Abort_closes_the_socket_and_ends_the_input()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = await ConnectAsync(listener.EndPoint);
        await using var connection = await AcceptAsync(listener);

        connection.Abort(new ConnectionAbortedException("test abort"));
        Assert.Empty(await RawClient.ReadToEndAsync(client));
        var aborted = await Assert.ThrowsAsync<ConnectionAbortedException>(async () =>
        {
            var result = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
            connection.Transport.Input.AdvanceTo(result.Buffer.End);
        });
        Assert.Equal("test abort", aborted.Message);
        await WhenCancelledAsync(connection.ConnectionClosed);
    }

    [Fact]
    public async Task A_slow_reader_gets_every_byte_in_order_through_both_pipes_limits()
    {
        var tuning = new SocketTuning();
        using var factory = Factory(tuning);
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = await ConnectAsync(listener.EndPoint);
        await using var connection = await AcceptAsync(listener);

        // The application echoes everything back uppercased: its output fills, so its input does too.
        var echo = EchoUppercaseAsync(connection.Transport);
        var payload = new byte[8 * 1024 * 1024];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)('a' + (i % 26));
        }

        // Written in 64 KiB pieces while the reply is read: far more than the pipes and socket
        // buffers hold, so the server's reads pause and its sends meet a full socket (EAGAIN, EPOLLOUT).
        var send = Task.Run(async () =>
        {
            for (var offset = 0; offset < payload.Length; offset += 64 * 1024)
            {
                await client.SendAsync(payload.AsMemory(offset, 64 * 1024));
            }

            client.Shutdown(SocketShutdown.Send);
        });
        var reply = await RawClient.ReadToEndAsync(client, TimeSpan.FromSeconds(60));
        await send.WaitAsync(Timeout);
        await echo.WaitAsync(Timeout);

        Assert.Equal(payload.Length, reply.Length);
        for (var i = 0; i < payload.Length; i++)
        {
            if (reply[i] != payload[i] - 32)
            {
                Assert.Fail($"byte {i} is {reply[i]}, not {payload[i] - 32}");
            }
        }
    }

    [Fact]
    public async Task Unix_socket_connections_echo_then_FIN()
    {
        var dir = Repo.TempDir();
        try
        {
            using var factory = Factory();
            var path = Path.Combine(dir, "e.sock");
            await using var listener = await factory.BindAsync(new UnixDomainSocketEndPoint(path));
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
            await using var connection = await AcceptAsync(listener);

            await client.SendAsync("unix"u8.ToArray());
            Assert.Equal("unix", await ReadAsync(connection.Transport.Input, 4));
            await connection.Transport.Output.WriteAsync("UNIX"u8.ToArray());
            await connection.Transport.Output.CompleteAsync();
            Assert.Equal("UNIX", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(client)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Unbind_stops_accepting_and_AcceptAsync_returns_null()
    {
        using var factory = Factory();
        var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var endpoint = (IPEndPoint)listener.EndPoint;
        var accept = listener.AcceptAsync().AsTask();
        await listener.UnbindAsync();

        Assert.Null(await accept.WaitAsync(Timeout));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(endpoint).WaitAsync(Timeout));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        await listener.DisposeAsync();
    }

    [Fact]
    public async Task Many_connections_over_the_loops_each_get_their_own_replies()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var serving = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (var i = 0; i < 300; i++)
            {
                var connection = (await listener.AcceptAsync())!;
                echoes.Add(Task.Run(async () =>
                {
                    await EchoUppercaseAsync(connection.Transport);
                    await connection.DisposeAsync();
                }));
            }

            await Task.WhenAll(echoes);
        });

        await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            using var client = await ConnectAsync(listener.EndPoint);
            await client.SendAsync(Encoding.ASCII.GetBytes($"client {i}"));
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal($"CLIENT {i}", Encoding.ASCII.GetString(await RawClient.ReadToEndAsync(client)));
        }));
        await serving.WaitAsync(Timeout);
        Assert.Equal(300, factory.Accepted);
    }

    private static async Task<string> ReadAsync(PipeReader input, int count)
    {
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(Timeout);
            if (result.Buffer.Length >= count || result.IsCompleted)
            {
                var text = Encoding.ASCII.GetString(result.Buffer);
                input.AdvanceTo(result.Buffer.End);
                return text;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async Task EchoUppercaseAsync(IDuplexPipe pipe)
    {
        while (true)
        {
            var result = await pipe.Input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                var upper = segment.ToArray();
                for (var i = 0; i < upper.Length; i++)
                {
                    upper[i] = upper[i] is >= (byte)'a' and <= (byte)'z' ? (byte)(upper[i] - 32) : upper[i];
                }

                await pipe.Output.WriteAsync(upper);
            }

            pipe.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await pipe.Output.CompleteAsync();
                return;
            }
        }
    }

    private static Task WhenCancelledAsync(CancellationToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => fired.TrySetResult());
        return fired.Task.WaitAsync(Timeout, CancellationToken.None);
    }
}
