using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Shout.Endpoints;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Web;

/// <summary>
/// A WebSocket client written at the frame level (RFC 6455), for what a well-behaved client library
/// will not do: send invalid UTF-8 as text, split frames at will, never answer a ping.
/// </summary>
internal sealed class RawWebSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawWebSocket(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket);
    }

    public static async Task<RawWebSocket> ConnectAsync(Uri web)
    {
        var socket = await RawClient.ConnectAsync(ShoutEndpoint.ForTcp(web.Host, web.Port));
        var client = new RawWebSocket(socket);
        var request = $"GET /ws HTTP/1.1\r\nHost: {web.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await client._stream.ReadAsync(one, cts.Token) == 0)
            {
                throw new Xunit.Sdk.XunitException("closed during the handshake: " + head);
            }

            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return client;
    }

    /// <summary>Sends one frame, masked as a client must.</summary>
    public async Task SendFrameAsync(byte opcode, byte[] payload, bool fin = true)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        if (payload.Length < 126)
        {
            header.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            header.Add(0x80 | 126);
            header.Add((byte)(payload.Length >> 8));
            header.Add((byte)payload.Length);
        }

        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        header.AddRange(mask);
        var masked = payload.Select((b, i) => (byte)(b ^ mask[i % 4])).ToArray();
        await _stream.WriteAsync(header.Concat(masked).ToArray());
    }

    /// <summary>Sends a masked frame header declaring <paramref name="length"/> payload bytes (8-byte length), and no payload.</summary>
    public async Task SendHeaderAsync(byte opcode, ulong length, bool fin = true)
    {
        var header = new byte[14];
        header[0] = (byte)((fin ? 0x80 : 0) | opcode);
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), length);
        header[10] = 0x12;
        header[11] = 0x34;
        header[12] = 0x56;
        header[13] = 0x78;
        await _stream.WriteAsync(header);
    }

    /// <summary>Reads one frame: opcode and payload.</summary>
    public async Task<(byte Opcode, byte[] Payload)> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var head = new byte[2];
        await _stream.ReadExactlyAsync(head, cts.Token);
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await _stream.ReadExactlyAsync(ext, cts.Token);
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await _stream.ReadExactlyAsync(ext, cts.Token);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
        }

        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, cts.Token);
        return ((byte)(head[0] & 0x0F), payload);
    }

    /// <summary>Reads frames, skipping pings, until a close frame; returns its status code.</summary>
    public async Task<int> ReadCloseAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var (opcode, payload) = await ReadFrameAsync(timeout);
            if (opcode == 0x8)
            {
                return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
            }
        }
    }

    /// <summary>Drops the connection with a TCP reset (linger 0), as a crashed peer would.</summary>
    public void Reset()
    {
        _socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        _socket.Close();
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
