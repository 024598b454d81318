using System.Text;
using Microsoft.Extensions.Logging;
using Shout.IntegrationTests.Infrastructure;
using Shout.IntegrationTests.Matrix;
using Shout.IntegrationTests.Web;
using Shout.Sessions;

namespace Shout.IntegrationTests.Reliability;

/// <summary>RELIABILITY row 1 on every connection transport: a client that resets in the middle of a message.</summary>
public sealed class ResetMatrixTests
{
    private const int Resetting = 5;

    public static TheoryData<string> Connected => ["tcp4", "tcp6", "unix", "tls", "ws", "wss"];

    [Theory]
    [MemberData(nameof(Connected))]
    public async Task Row01_clients_that_reset_mid_message_free_their_slot_quietly_and_a_survivor_is_served(string name)
    {
        var transport = MatrixTransport.Named(name);
        var logs = new LogCapture();
        await using var server = await transport.StartAsync(logs: logs);
        for (var i = 0; i < Resetting; i++)
        {
            var client = await Probe.ServedAsync(transport, server, null, $"client {i}");
            await SendHalfAMessageAsync(transport, client);
            client.Reset();
            await client.DisposeAsync();
        }

        await server.WaitForNoConnectionsAsync();

        // A Unix socket has no RST: a peer that closes with data unread is seen as end of stream, or
        // as a reset if the server was writing to it at that moment; either way the client ended it.
        bool Counted(CloseReason? reason) => reason == CloseReason.Reset || (transport.Name == "unix" && reason == CloseReason.ClientClosed);
        Assert.Equal(Resetting, server.Metrics.ClosedFor(CloseReason.Reset)
            + (transport.Name == "unix" ? server.Metrics.ClosedFor(CloseReason.ClientClosed) : 0));
        Assert.Equal(Resetting, server.Server.Services.GetEvents().Count(e => e.Kind == ConnectionEventKind.Closed
            && Counted(e.Reason) && e.ClosedBy == "client" && transport.EventNames.Contains(e.Transport)));

        await using (var survivor = await Probe.ServedAsync(transport, server, null, "still here"))
        {
            await survivor.CloseAsync();
            var ending = await survivor.ReadToEndAsync();
            Assert.Equal(EndKind.Closed, ending.Kind);
        }

        await server.WaitForNoConnectionsAsync();
        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }

    /// <summary>Bytes that leave the server holding an unfinished message: a cut character, TLS record or WebSocket frame.</summary>
    private static async Task SendHalfAMessageAsync(MatrixTransport transport, MatrixClient client)
    {
        if (transport.IsWebSocket)
        {
            // The first fragment of a binary message, which never gets its last one.
            var webSocket = ((WebSocketMatrixClient)client).WebSocket;
            await webSocket.SendAsync(Encoding.UTF8.GetBytes(new string('a', 10_000) + "ȿ"), System.Net.WebSockets.WebSocketMessageType.Binary,
                endOfMessage: false, CancellationToken.None);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(new string('a', 10_000) + "ȿ");
        await client.SendAsync(bytes.AsMemory(0, bytes.Length - 1));
        if (transport.IsTls)
        {
            // The header of an application-data record of 4,096 bytes, and none of them.
            await client.SendRawAsync(new byte[] { 0x17, 0x03, 0x03, 0x10, 0x00, 1, 2, 3 }.AsMemory());
        }
    }
}
