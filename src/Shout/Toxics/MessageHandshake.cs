using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Shout.Toxics;

/// <summary>
/// The server side of a ws proxy's opening handshake (RFC 6455 §4.2), on the client's connection:
/// the upgrade request read (at most <see cref="MaxRequestBytes"/>, within
/// <see cref="TlsBridge.HandshakeTimeout"/>), then answered with 101 once the upstream accepted, or
/// refused with an HTTP status and one line. Only what a proxy needs: the target, the key, the
/// origin and the subprotocols offered.
/// </summary>
internal static class MessageHandshake
{
    /// <summary>The largest upgrade request taken (request line and headers).</summary>
    public const int MaxRequestBytes = 8 * 1024;

    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>An upgrade request: its target (path and query), key, Origin and offered subprotocols.</summary>
    public sealed record Request(string Target, string Key, string? Origin, string[] Protocols);

    /// <summary>Reads the upgrade request; a request, or null with the status and the reason to refuse it with.</summary>
    public static async Task<(Request? Request, int Status, string Error)> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        int end;
        while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == buffer.Length)
            {
                return (null, 431, $"the upgrade request is longer than {MaxRequestBytes} bytes");
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return (null, 0, "the client closed before its upgrade request ended");
            }

            length += read;
        }

        if (end + 4 != length)
        {
            // A client sends frames only after the 101 (RFC 6455 §4.1): more is not a WebSocket client.
            return (null, 400, "data after the upgrade request, before the handshake was answered");
        }

        var lines = Encoding.Latin1.GetString(buffer, 0, end).Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine is not [var method, var target, var version] || method != "GET" || !target.StartsWith('/') || version != "HTTP/1.1")
        {
            return (null, 400, "expected a WebSocket upgrade: GET /PATH HTTP/1.1");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return (null, 400, "a malformed header line in the upgrade request");
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var before) ? before + ", " + value : value;
        }

        if (!Has(headers, "Upgrade", "websocket") || !Has(headers, "Connection", "upgrade")
            || !headers.TryGetValue("Sec-WebSocket-Key", out var key) || key.Length == 0)
        {
            return (null, 400, "expected a WebSocket upgrade (GET with Upgrade: websocket and Sec-WebSocket-Key)");
        }

        if (!headers.TryGetValue("Sec-WebSocket-Version", out var wsVersion) || wsVersion != "13")
        {
            return (null, 426, "WebSocket version 13 only");
        }

        var protocols = headers.TryGetValue("Sec-WebSocket-Protocol", out var offered)
            ? offered.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        return (new Request(target, key, headers.GetValueOrDefault("Origin"), protocols), 0, "");
    }

    /// <summary>
    /// The part of <paramref name="target"/> past the listen path (with the query), to append to the
    /// upstream's path; null when the target is not under the listen path.
    /// </summary>
    public static string? PastPath(string listenPath, string target)
    {
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        var prefix = listenPath.TrimEnd('/');
        if (path != prefix && !path.StartsWith(prefix + "/", StringComparison.Ordinal))
        {
            return null;
        }

        return target[prefix.Length..];
    }

    /// <summary>Answers 101 Switching Protocols: from here on, frames.</summary>
    public static async Task AcceptAsync(Stream stream, Request request, string? protocol, CancellationToken cancellationToken)
    {
        // RFC 6455 §4.2.2 names SHA-1 for the accept value: a check that the server read the key, not security.
#pragma warning disable CA5350
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(request.Key + Guid)));
#pragma warning restore CA5350
        var response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Accept: {accept}\r\n" + (protocol is null ? "" : $"Sec-WebSocket-Protocol: {protocol}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses the upgrade with <paramref name="status"/> and <c>ERR reason</c> as its body, then the connection closes.</summary>
    public static async Task RefuseAsync(Stream stream, int status, string reason, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes($"ERR {reason}\n");
        var head = $"HTTP/1.1 {status.ToString(CultureInfo.InvariantCulture)} {Phrase(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + $"Content-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static bool Has(Dictionary<string, string> headers, string name, string token) =>
        headers.TryGetValue(name, out var value)
        && value.Split(',', StringSplitOptions.TrimEntries).Any(t => t.Equals(token, StringComparison.OrdinalIgnoreCase));

    private static string Phrase(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Refused",
    };
}
