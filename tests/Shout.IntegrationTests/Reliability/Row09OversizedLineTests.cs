using System.Net.Sockets;
using System.Text;
using Shout.Hosting;
using Shout.IntegrationTests.Infrastructure;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 9: an oversized line in line mode.</summary>
public sealed class Row09OversizedLineTests
{
    private const int Limit = 1000;

    [Theory]
    [InlineData(Limit - 1, false)]
    [InlineData(Limit, false)]
    [InlineData(Limit + 1, false)]
    [InlineData(Limit - 1, true)]
    [InlineData(Limit, true)]
    [InlineData(Limit + 1, true)]
    [InlineData(10_000_000, false)]
    public async Task Row09_oversized_line_limit_is_accepted_limit_plus_one_gets_the_error_and_close(int length, bool byteByByte)
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Mode = ShoutMode.Line;
            o.MaxLineLength = Limit;
        });
        using var socket = await RawClient.ConnectAsync(server.Endpoint);
        socket.NoDelay = true;
        var line = new byte[length + 1];
        Array.Fill(line, (byte)'a');
        line[^1] = (byte)'\n';

        // For a refused line, read while sending: the server stops reading, so a big send would stall otherwise.
        var reply = length > Limit ? ReadAllowingResetAsync(socket) : null;
        await SendAllowingResetAsync(socket, line, byteByByte);

        if (length <= Limit)
        {
            Assert.Equal(Encoding.ASCII.GetString(line).ToUpperInvariant(), Encoding.ASCII.GetString(await RawClient.ReadExactlyAsync(socket, line.Length)));
            socket.Shutdown(SocketShutdown.Send);
            Assert.Empty(await RawClient.ReadToEndAsync(socket));
            await server.WaitForNoConnectionsAsync();
            Assert.Equal(0, server.Metrics.ClosedFor(CloseReason.ProtocolError));
        }
        else
        {
            // The error line arrives whole before the close, even when the server closes on unread input.
            Assert.Equal($"ERR line too long (max {Limit} bytes)\n", Encoding.ASCII.GetString(await reply!));
            socket.Dispose();
            await server.WaitForNoConnectionsAsync();
            Assert.Equal(1, server.Metrics.ClosedFor(CloseReason.ProtocolError));
        }
    }

    private static async Task SendAllowingResetAsync(Socket socket, byte[] data, bool byteByByte)
    {
        try
        {
            if (!byteByByte)
            {
                await socket.SendAsync(data);
                return;
            }

            for (var i = 0; i < data.Length; i++)
            {
                await socket.SendAsync(data.AsMemory(i, 1));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
            // The server closed on an oversized line while more of it was still coming: expected.
        }
    }

    /// <summary>Reads until EOF or a reset, returning what arrived; for the refused lines only.</summary>
    private static Task<byte[]> ReadAllowingResetAsync(Socket socket) => Task.Run(async () =>
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                output.Write(buffer, 0, read);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // What arrived before the reset is what the test checks.
        }

        return output.ToArray();
    });
}
