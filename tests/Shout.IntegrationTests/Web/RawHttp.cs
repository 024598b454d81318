using System.Net;
using System.Net.Sockets;
using System.Text;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

/// <summary>HTTP/1.1 by hand over a socket from a chosen loopback address, so a test picks the source address and every header.</summary>
internal static class RawHttp
{
    /// <summary>What came back: the bytes up to the deadline or the server's close, and whether it closed (FIN or reset).</summary>
    public sealed record Reply(string Text, bool Closed)
    {
        public int Status => Text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && Text.Length >= 12
            ? int.Parse(Text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    public static ShoutEndpoint Endpoint(Uri web) => ShoutEndpoint.ForTcp(web.Host.Trim('[', ']'), web.Port);

    public static string Request(string method, string path, string host, params string[] headers) =>
        $"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}"
        + (method == "POST" ? "Content-Length: 0\r\n" : "") + "\r\n";

    /// <summary>Sends <paramref name="request"/> from <paramref name="from"/> and reads the first response (its head and a little body) or the close.</summary>
    public static async Task<Reply> SendAsync(Uri web, IPAddress from, string request, TimeSpan? wait = null)
    {
        using var socket = await RawClient.ConnectFromAsync(Endpoint(web), from);
        return await ExchangeAsync(socket, request, wait);
    }

    /// <summary>One request on an open (keep-alive) connection; reads until a whole head has arrived, the close, or the deadline.</summary>
    public static async Task<Reply> ExchangeAsync(Socket socket, string request, TimeSpan? wait = null)
    {
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        }
        catch (SocketException)
        {
            return new Reply("", true);
        }

        var received = new MemoryStream();
        var buffer = new byte[8192];
        using var deadline = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(15));
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    return new Reply(Text(received), true);
                }

                received.Write(buffer, 0, read);
                if (Complete(received.GetBuffer().AsSpan(0, (int)received.Length)))
                {
                    return new Reply(Text(received), false);
                }
            }
        }
        catch (SocketException)
        {
            return new Reply(Text(received), true);
        }
        catch (OperationCanceledException)
        {
            return new Reply(Text(received), false);
        }
    }

    private static string Text(MemoryStream received) => Encoding.UTF8.GetString(received.GetBuffer(), 0, (int)received.Length);

    /// <summary>
    /// A whole head, and the body its Content-Length announces (counted in bytes: the page has
    /// characters of more than one byte), or (streamed) a body ending in a newline; a 101 has none.
    /// </summary>
    private static bool Complete(ReadOnlySpan<byte> received)
    {
        var head = received.IndexOf("\r\n\r\n"u8);
        if (head < 0)
        {
            return false;
        }

        if (received.StartsWith("HTTP/1.1 101"u8))
        {
            return true;
        }

        var body = received.Length - head - 4;
        var length = System.Text.RegularExpressions.Regex.Match(Encoding.ASCII.GetString(received[..head]), @"(?im)^content-length:\s*(\d+)");
        return length.Success ? body >= int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : body > 0 && received[^1] == (byte)'\n';
    }
}
