using System.Text;
using Shout.IntegrationTests.Matrix;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The message contract over UDP: one reply datagram per datagram, to its sender; a datagram of the
/// largest IPv4 size (65,507) answered whole; a reply that outgrows it follows UdpReplyRule (cut at
/// the last whole character, counted).
/// </summary>
public sealed class UdpMessageTransportConformance : MessageTransportConformance
{
    internal override MatrixTransport Transport => MatrixTransport.Udp;

    protected override int MaxMessage => 65_507;

    internal override Task SendMessageAsync(MatrixClient client, byte[] message, bool text) => client.SendAsync(message);

    internal override async Task<byte[]> ReceiveMessageAsync(MatrixClient client, bool text) =>
        await ((DatagramMatrixClient)client).ReceiveDatagramAsync() ?? throw new Xunit.Sdk.XunitException("no reply datagram within 15 s");

    [Fact]
    public async Task A_reply_that_outgrows_the_largest_datagram_is_cut_at_a_character_boundary_and_counted()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);

        // 'a' then 32,753 × ȿ (2 bytes): 65,507 bytes in; the reply would be 1 + 98,259.
        var message = Encoding.UTF8.GetBytes("a" + new string('ȿ', 32_753));
        Assert.Equal(65_507, message.Length);
        await SendMessageAsync(client, message, text: true);
        var reply = await ReceiveMessageAsync(client, text: true);
        Assert.Equal(1 + ((65_507 - 1) / 3 * 3), reply.Length);
        Assert.Equal("A" + new string('Ȿ', (65_507 - 1) / 3), Encoding.UTF8.GetString(reply));
        Assert.Equal(1, server.Metrics.DatagramRepliesTruncated);

        // The peer is still answered.
        await SendMessageAsync(client, "ok"u8.ToArray(), text: true);
        Assert.Equal("OK", Encoding.UTF8.GetString(await ReceiveMessageAsync(client, text: true)));
    }

    [Fact]
    public async Task An_empty_datagram_gets_an_empty_reply()
    {
        await using var server = await StartAsync();
        await using var client = await Transport.OpenAsync(server);
        await SendMessageAsync(client, [], text: false);
        Assert.Empty(await ReceiveMessageAsync(client, text: false));
    }
}
