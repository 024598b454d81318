using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Shout.Server.Admission;

/// <summary>
/// Connection middleware in front of every stream endpoint (before TLS, so a refused client costs no
/// handshake): refuses denied addresses before anything is read, and keeps Shout's own connection
/// limits — one global count across every listener (Kestrel's <c>MaxConcurrentConnections</c> is per
/// binding and closes silently) and one per client address. A client over a limit is told why in one
/// line, then closed. A slot is freed when its connection ends. Thread-safe; one per server.
/// </summary>
internal sealed class ConnectionAdmission
{
    private readonly ShoutServerOptions _options;
    private readonly ShoutMetrics _metrics;
    private readonly ILogger<ConnectionAdmission> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly byte[] _busy;
    private readonly byte[] _busyAddress;
    private int _open;

    public ConnectionAdmission(ShoutServerOptions options, ShoutMetrics metrics, ILogger<ConnectionAdmission> logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _busy = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"ERR server busy (max {options.MaxConnections} connections)\n"));
        _busyAddress = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"ERR too many connections from your address (max {options.MaxConnectionsPerAddress})\n"));
    }

    /// <summary>Connections admitted and not yet ended, over every endpoint.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>The middleware for one listener, whose connections are counted as <paramref name="transport"/>.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware(string transport) =>
        next => connection => AdmitAsync(connection, next, transport);

    private async Task AdmitAsync(ConnectionContext connection, ConnectionDelegate next, string transport)
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        if (address is not null && !_options.Access.IsAllowed(address))
        {
            _metrics.ConnectionRejected(transport, CloseReason.Denied);
            AdmissionLog.Denied(_logger, connection.ConnectionId, address.ToString());
            return;
        }

        var refusal = TryEnter(address);
        if (refusal is not null)
        {
            _metrics.ConnectionRejected(transport, CloseReason.Limit);
            AdmissionLog.OverLimit(_logger, connection.ConnectionId, address?.ToString() ?? "unix peer", Encoding.ASCII.GetString(refusal).TrimEnd());
            await TellAsync(connection, refusal);
            return;
        }

        try
        {
            await next(connection);
        }
        finally
        {
            Leave(address);
        }
    }

    /// <summary>Takes a slot; returns the refusal line when a limit is reached.</summary>
    private byte[]? TryEnter(IPAddress? address)
    {
        var max = _options.MaxConnections;
        if (Interlocked.Increment(ref _open) > max && max > 0)
        {
            Interlocked.Decrement(ref _open);
            return _busy;
        }

        var perAddress = _options.MaxConnectionsPerAddress;
        if (address is null || perAddress <= 0)
        {
            return null;
        }

        lock (_gate)
        {
            _perAddress.TryGetValue(address, out var count);
            if (count >= perAddress)
            {
                Interlocked.Decrement(ref _open);
                return _busyAddress;
            }

            _perAddress[address] = count + 1;
        }

        return null;
    }

    private void Leave(IPAddress? address)
    {
        Interlocked.Decrement(ref _open);
        if (address is null || _options.MaxConnectionsPerAddress <= 0)
        {
            return;
        }

        lock (_gate)
        {
            // Forget an address with no connection so the table stays as small as the open set.
            if (_perAddress.TryGetValue(address, out var count) && count > 1)
            {
                _perAddress[address] = count - 1;
            }
            else
            {
                _perAddress.Remove(address);
            }
        }
    }

    private async Task TellAsync(ConnectionContext connection, byte[] line)
    {
        try
        {
            // One short line fits the socket's buffer, so this does not wait on the client.
            await connection.Transport.Output.WriteAsync(line);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            AdmissionLog.TellFailed(_logger, connection.ConnectionId, e.Message);
        }
    }
}

internal static partial class AdmissionLog
{
    [LoggerMessage(20, LogLevel.Debug, "{ConnectionId} denied: {Address} is not allowed by the access lists (reason denied)")]
    public static partial void Denied(ILogger logger, string connectionId, string address);

    [LoggerMessage(21, LogLevel.Debug, "{ConnectionId} refused from {Address}: {Message} (reason limit)")]
    public static partial void OverLimit(ILogger logger, string connectionId, string address, string message);

    [LoggerMessage(22, LogLevel.Debug, "{ConnectionId} could not send the busy line: {Message}")]
    public static partial void TellFailed(ILogger logger, string connectionId, string message);
}
