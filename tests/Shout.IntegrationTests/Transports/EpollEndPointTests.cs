using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Shout.IntegrationTests.Infrastructure;

using static Shout.IntegrationTests.Transports.EpollHarness;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The epoll connection keeps no <see cref="Socket"/>: its endpoints come from the addresses accept
/// and getsockname gave, the socket feature is a Socket over a second descriptor made on demand and
/// closed with the connection, and the features layers add are kept as a feature collection should.
/// </summary>
public sealed class EpollEndPointTests
{
    private static readonly TimeSpan Timeout = EpollHarness.Wait;

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task Endpoints_are_the_client_and_the_listener_as_a_socket_reports_them(string address)
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Parse(address), 0));
        using var first = await ConnectAsync(listener.EndPoint);
        await using var one = await AcceptAsync(listener);
        using var second = await ConnectAsync(listener.EndPoint);
        await using var two = await AcceptAsync(listener);

        Assert.Equal(first.LocalEndPoint, one.RemoteEndPoint);
        Assert.Equal(second.LocalEndPoint, two.RemoteEndPoint);
        Assert.Equal(listener.EndPoint, one.LocalEndPoint);

        // One local endpoint object for the listener's connections, not one each.
        Assert.Same(one.LocalEndPoint, two.LocalEndPoint);

        // A layer (the PROXY protocol) may replace the client's address.
        var real = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 4242);
        one.RemoteEndPoint = real;
        Assert.Equal(real, one.RemoteEndPoint);
        Assert.Equal(real, one.Features.Get<IConnectionEndPointFeature>()!.RemoteEndPoint);
    }

    [Fact]
    public async Task The_socket_feature_is_the_connection_socket_and_is_closed_with_the_connection()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = await ConnectAsync(listener.EndPoint);
        var connection = await AcceptAsync(listener);

        var socket = connection.Features.Get<IConnectionSocketFeature>()!.Socket;
        Assert.Equal(ProtocolType.Tcp, socket.ProtocolType);
        Assert.Equal(client.LocalEndPoint, socket.RemoteEndPoint);
        Assert.Same(socket, connection.Features.Get<IConnectionSocketFeature>()!.Socket);

        // The descriptors share one open file: it must stay non-blocking for the loop's receives.
        Assert.False(socket.Blocking);

        // A half-close through the feature reaches the client: it is the same socket.
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await client.ReceiveAsync(new byte[1]).WaitAsync(Timeout));

        connection.Abort(new ConnectionAbortedException("test"));
        await connection.DisposeAsync();
        Assert.True(socket.SafeHandle.IsClosed);
    }

    [Fact]
    public async Task ConnectionClosed_asked_for_only_after_the_client_left_is_cancelled_already()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var client = await ConnectAsync(listener.EndPoint);
        await using var connection = await AcceptAsync(listener);

        client.Shutdown(SocketShutdown.Send);
        client.Dispose();
        var result = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.True(result.IsCompleted);
        Assert.True(connection.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task Unix_connections_report_the_listener_path_as_their_local_endpoint()
    {
        var dir = Repo.TempDir();
        try
        {
            using var factory = Factory();
            var path = Path.Combine(dir, "e.sock");
            await using var listener = await factory.BindAsync(new UnixDomainSocketEndPoint(path));
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(Timeout);
            await using var connection = await AcceptAsync(listener);

            Assert.Equal(path, Assert.IsType<UnixDomainSocketEndPoint>(connection.LocalEndPoint).ToString());
            Assert.IsType<UnixDomainSocketEndPoint>(connection.RemoteEndPoint);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Features_that_layers_add_are_kept_replaced_and_listed()
    {
        using var factory = Factory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = await ConnectAsync(listener.EndPoint);
        await using var connection = await AcceptAsync(listener);
        var features = connection.Features;
        var revision = features.Revision;

        var added = Enumerable.Range(0, 6).Select(i => new Marker(i)).ToArray();
        features.Set(added[0]);
        features.Set<IMarker1>(added[1]);
        features.Set<IMarker2>(added[2]);
        features.Set<IMarker3>(added[3]);
        features.Set<IMarker4>(added[4]);
        features.Set(added[5]);

        Assert.Same(added[5], features.Get<Marker>());
        Assert.Same(added[1], features.Get<IMarker1>());
        Assert.Same(added[4], features.Get<IMarker4>());
        Assert.True(features.Revision > revision);
        Assert.Same(connection, features.Get<IConnectionIdFeature>());

        features.Set<IMarker2>(null);
        Assert.Null(features.Get<IMarker2>());
        var listed = features.Select(f => f.Key).ToList();
        Assert.Contains(typeof(IMarker3), listed);
        Assert.DoesNotContain(typeof(IMarker2), listed);
        Assert.Single(listed, t => t == typeof(Marker));
        Assert.Contains(typeof(IConnectionTransportFeature), listed);

        // A later connection's list starts as long as the most any connection was given: its free
        // slots are neither found nor listed.
        using var secondClient = await ConnectAsync(listener.EndPoint);
        await using var second = await AcceptAsync(listener);
        second.Features.Set<IMarker3>(added[3]);
        Assert.Same(added[3], second.Features.Get<IMarker3>());
        Assert.Null(second.Features.Get<IMarker1>());
        Assert.Null(second.Features.Get<Marker>());
        Assert.DoesNotContain(second.Features, f => f.Key is null || f.Value is null);
        Assert.Single(second.Features, f => f.Key == typeof(IMarker3));
    }

    private interface IMarker1;

    private interface IMarker2;

    private interface IMarker3;

    private interface IMarker4;

    private sealed record Marker(int Index) : IMarker1, IMarker2, IMarker3, IMarker4;
}
