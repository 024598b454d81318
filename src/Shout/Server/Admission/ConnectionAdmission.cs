using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shout.Server.Reload;

namespace Shout.Server.Admission;

/// <summary>
/// Connection middleware in front of every stream endpoint (before TLS, so a refused client costs no
/// handshake): refuses denied addresses before anything is read, and keeps Shout's own connection
/// limits — one global count across every listener (Kestrel's <c>MaxConcurrentConnections</c> is per
/// binding and closes silently) and one per client address. A client over a limit is told why in one
/// line, then closed. A slot is freed when its connection ends. Thread-safe; one per server.
/// The access lists and limits are read from <see cref="LiveSettings"/> per connection, so a reload applies to the next one.
/// </summary>
internal sealed class ConnectionAdmission
{
    private readonly LiveSettings _settings;
    private readonly ShoutMetrics _metrics;
    private readonly ILogger<ConnectionAdmission> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _open;

    public ConnectionAdmission(LiveSettings settings, ShoutMetrics metrics, ILogger<ConnectionAdmission> logger)
    {
        _settings = settings;
        _metrics = metrics;
        _logger = logger;
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

        var settings = _settings.Current;
        if (address is not null && !settings.Access.IsAllowed(address))
        {
            _metrics.ConnectionRejected(transport, CloseReason.Denied);
            AdmissionLog.Denied(_logger, connection.ConnectionId, address.ToString());
            return;
        }

        var refusal = TryEnter(address, settings, out var counted);
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
            Leave(counted ? address : null);
        }
    }

    /// <summary>Takes a slot; returns the refusal line when a limit is reached.</summary>
    // counted: whether the address was counted, so leaving uncounts exactly what entering counted across a reload.
    private byte[]? TryEnter(IPAddress? address, ReloadableSettings settings, out bool counted)
    {
        counted = false;
        var max = settings.MaxConnections;
        if (Interlocked.Increment(ref _open) > max && max > 0)
        {
            Interlocked.Decrement(ref _open);
            return settings.BusyLine;
        }

        var perAddress = settings.MaxConnectionsPerAddress;
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
                return settings.BusyAddressLine;
            }

            _perAddress[address] = count + 1;
            counted = true;
        }

        return null;
    }

    private void Leave(IPAddress? address)
    {
        Interlocked.Decrement(ref _open);
        if (address is null)
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
