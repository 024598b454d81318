using System.Net;
using System.Text;
using Shout.Text;

namespace Shout.IntegrationTests.Matrix;

/// <summary>What became of a client that dialled and sent one probe message.</summary>
/// <param name="Client">The open client when it was served; null when refused.</param>
/// <param name="Refusal">How it was refused (the client's view); null when served.</param>
/// <param name="Ending">What came back before the end, when the connection was made at all.</param>
internal sealed record ProbeResult(MatrixClient? Client, string? Refusal, Ending? Ending)
{
    public bool Served => Client is not null;
}

/// <summary>
/// Dials and sends one message: served means its uppercase came back (and the client stays open for
/// the test to hold); anything else — a handshake or upgrade refused, a close or reset, a busy line
/// then EOF, a datagram left unanswered — is a refusal, described for the assertion message.
/// </summary>
internal static class Probe
{
    public static async Task<ProbeResult> SendAsync(MatrixTransport transport, Infrastructure.TestServer server, IPAddress? from, string text)
    {
        MatrixClient client;
        try
        {
            client = await transport.OpenAsync(server, from);
        }
        catch (RefusedException e)
        {
            return new ProbeResult(null, e.Message, null);
        }

        var message = Encoding.UTF8.GetBytes(text);
        var expected = ShoutCase.ToUpper(message);
        Ending reply;
        try
        {
            await client.SendAsync(message);
            reply = await client.ReceiveAsync(expected.Length);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException)
        {
            reply = new Ending([], EndKind.Reset, null, "send failed: " + e.Message);
        }

        if (reply.Kind == EndKind.Open && reply.Data.AsSpan().SequenceEqual(expected))
        {
            return new ProbeResult(client, null, reply);
        }

        // Not answered: read whatever else the server says (a busy line) up to its close.
        if (reply.Kind == EndKind.Open && !transport.IsDatagram && reply.Data.Length > 0)
        {
            var rest = await client.ReadToEndAsync();
            reply = rest with { Data = [.. reply.Data, .. rest.Data] };
        }

        await client.DisposeAsync();
        return new ProbeResult(null, reply.ToString(), reply);
    }

    /// <summary>Asserts the probe was served and returns the open client.</summary>
    public static async Task<MatrixClient> ServedAsync(MatrixTransport transport, Infrastructure.TestServer server, IPAddress? from, string text)
    {
        var result = await SendAsync(transport, server, from, text);
        Assert.True(result.Served, $"{transport} from {from?.ToString() ?? "loopback"} should be served but was refused: {result.Refusal}");
        return result.Client!;
    }

    /// <summary>Asserts the probe was refused and that nothing it sent was answered.</summary>
    public static async Task<ProbeResult> RefusedAsync(MatrixTransport transport, Infrastructure.TestServer server, IPAddress? from, string text)
    {
        var result = await SendAsync(transport, server, from, text);
        if (result.Served)
        {
            await result.Client!.DisposeAsync();
            Assert.Fail($"{transport} from {from?.ToString() ?? "loopback"} should be refused but was served");
        }

        var answer = ShoutCase.ToUpper(Encoding.UTF8.GetBytes(text));
        Assert.False(result.Ending is { } e && e.Data.AsSpan().IndexOf(answer) >= 0, $"a refused client's message was answered: {result.Refusal}");
        return result;
    }
}
