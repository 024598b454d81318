using Shout.Trace;

namespace Shout.IntegrationTests.Trace;

/// <summary>Checks shared by the capture tests: the handshake as the tutorial draws it.</summary>
internal static class TraceAssert
{
    public static void Handshake(IReadOnlyList<TracePacketLine> lines)
    {
        Assert.True(lines.Count >= 3, $"fewer than 3 packets: {string.Join('\n', lines)}");
        var (syn, synAck, ack) = (lines[0], lines[1], lines[2]);
        Assert.Equal(("client", "SYN", "x", (string?)null, "SYN_SENT", (string?)null), (syn.From, syn.Flags, syn.Seq, syn.Ack, syn.ClientState, syn.ServerState));
        Assert.Equal(("server", "SYN-ACK", "y", "x+1", "ESTABLISHED", "SYN_RCVD"), (synAck.From, synAck.Flags, synAck.Seq, synAck.Ack, synAck.ClientState, synAck.ServerState));
        Assert.Equal(("client", "ACK", "x+1", "y+1", (string?)null, "ESTABLISHED"), (ack.From, ack.Flags, ack.Seq, ack.Ack, ack.ClientState, ack.ServerState));
    }

    /// <summary>The first line from <paramref name="from"/> that carries data.</summary>
    public static TracePacketLine Data(IEnumerable<TracePacketLine> lines, string from) =>
        lines.First(l => l.From == from && l.Length > 0);

    public static string Describe(IEnumerable<TracePacketLine> lines) => string.Join('\n', lines);
}
