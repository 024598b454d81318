using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shout.Sessions;

namespace Shout.Transports.ProxyProtocol;

/// <summary>
/// Kestrel connection middleware that reads a PROXY header before anything else sees the connection:
/// only from a trusted proxy, within the header timeout. On success the connection's
/// <c>RemoteEndPoint</c> becomes the real client, so every later layer (logs, limits, access lists)
/// sees the client, and the bytes after the header reach the handler untouched. Anything else closes
/// the connection before a byte is answered. Registered first on a listener (before TLS).
/// </summary>
internal sealed class ProxyProtocolMiddleware(ConnectionDelegate next, ProxyProtocolOptions options, ShoutMetrics metrics,
    TimeProvider clock, ILogger logger)
{
    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        var peer = connection.RemoteEndPoint;
        if (connection.LocalEndPoint is not UnixDomainSocketEndPoint && !IsTrusted(peer))
        {
            Reject(connection, "untrusted", $"{Describe(peer)} is not a trusted proxy");
            return;
        }

        var header = await ReadHeaderAsync(connection);
        if (header is null)
        {
            return;
        }

        if (header.Source is not null)
        {
            connection.RemoteEndPoint = header.Source;
        }

        connection.Features.Set<IProxyProtocolFeature>(new ProxyProtocolFeature(header, peer));
        ProxyLog.Accepted(logger, connection.ConnectionId, header.Version, Describe(peer), Describe(header.Source ?? peer));
        await next(connection);
    }

    private async Task<ProxyHeader?> ReadHeaderAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var timeout = new CancellationTokenSource(options.HeaderTimeout, clock);
        var drain = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        // Not ConnectionClosed: Kestrel raises it on the client's FIN, and a header followed by a
        // half-close is a valid connection.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, drain);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(stop.Token);
                var buffer = result.Buffer;
                var parse = ProxyProtocolParser.Parse(buffer);
                switch (parse.Status)
                {
                    case ProxyParseStatus.Done:
                        // Examined only up to the header: the client's bytes after it are read again by the handler.
                        var end = buffer.GetPosition(parse.Consumed);
                        input.AdvanceTo(end, end);
                        return parse.Header;
                    case ProxyParseStatus.Invalid:
                        input.AdvanceTo(buffer.Start, buffer.End);
                        Reject(connection, "invalid", parse.Error!);
                        return null;
                    default:
                        input.AdvanceTo(buffer.Start, buffer.End);
                        if (result.IsCompleted)
                        {
                            Reject(connection, "incomplete", $"closed after {buffer.Length} bytes of a PROXY header");
                            return null;
                        }

                        break;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Reject(connection, "timeout", $"no whole PROXY header within {options.HeaderTimeout.TotalSeconds:0.###} s");
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException or SocketException)
        {
            Reject(connection, "reset", e.Message);
        }

        return null;
    }

    // A Unix socket's file permissions decide who may connect (only a proxy is given the path), so
    // its peers are not checked here.
    private bool IsTrusted(EndPoint? peer) => peer switch
    {
        IPEndPoint ip => options.TrustedProxies.Any(n => n.Contains(PeerAddress.Normalize(ip.Address))),
        _ => false,
    };

    private void Reject(ConnectionContext connection, string reason, string message)
    {
        ProxyLog.Rejected(logger, connection.ConnectionId, Describe(connection.RemoteEndPoint), message);
        metrics.ProxyRejected(reason);
    }

    private static string Describe(EndPoint? endPoint) => endPoint switch
    {
        null => "?",
        UnixDomainSocketEndPoint => "unix peer",
        _ => endPoint.ToString() ?? "?",
    };
}

internal static partial class ProxyLog
{
    [LoggerMessage(LogEvents.ProxyHeader, LogLevel.Debug, "{ConnectionId} PROXY v{Version} header from {Proxy}: client {Client}", EventName = "ProxyHeader")]
    public static partial void Accepted(ILogger logger, string connectionId, int version, string proxy, string client);

    [LoggerMessage(LogEvents.ProxyRejected, LogLevel.Debug, "{ConnectionId} closed before serving, from {Remote}: {Message}", EventName = "ProxyRejected")]
    public static partial void Rejected(ILogger logger, string connectionId, string remote, string message);
}

/// <summary>What the PROXY step needs: who may send a header, and how long it may take.</summary>
/// <param name="TrustedProxies">Networks allowed to send a PROXY header.</param>
/// <param name="HeaderTimeout">How long a connection may take to send its whole header.</param>
internal sealed record ProxyProtocolOptions(IReadOnlyList<IPNetwork> TrustedProxies, TimeSpan HeaderTimeout);
