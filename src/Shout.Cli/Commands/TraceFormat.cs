using System.Globalization;
using System.Text;
using Shout.Trace;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary>
/// A trace record as one line of text, in the tutorial's terms:
/// <c>#1 client → server  SYN-ACK  seq=y ack=x+1  server SYN_RCVD, client ESTABLISHED</c>.
/// Plain when piped; coloured (client cyan, server yellow, states green, resets red) on a terminal.
/// </summary>
internal static class TraceFormat
{
    /// <summary>A silence on a connection at least this long is drawn as its own line before the packet that ends it.</summary>
    public const double GapShownMs = 10;

    public static string Plain(TraceRecord record) => record switch
    {
        TracePacketLine p => Packet(p, markup: false),
        TraceDatagramLine d => Datagram(d, markup: false),
        TraceSummary s => Summary(s, markup: false),
        _ => record.ToString(),
    };

    public static string Markup(TraceRecord record) => record switch
    {
        TracePacketLine p => Packet(p, markup: true),
        TraceDatagramLine d => Datagram(d, markup: true),
        TraceSummary s => Summary(s, markup: true),
        _ => Spectre.Console.Markup.Escape(record.ToString()),
    };

    /// <summary>The line that opens a connection's drawing: its number and both ends.</summary>
    public static string Header(TraceRecord record, bool markup)
    {
        var kind = record is TraceDatagramLine ? "udp" : "tcp";
        var text = $"#{record.Connection} {kind} client {record.Client} ⇄ server {record.Server}";
        return markup ? $"[bold]{Spectre.Console.Markup.Escape(text)}[/]" : text;
    }

    private static string Packet(TracePacketLine p, bool markup)
    {
        var line = new StringBuilder();
        if (p.GapMs >= GapShownMs)
        {
            // The time nothing crossed the wire: a latency toxic, a slow peer, a delayed FIN.
            line.Append(CultureInfo.InvariantCulture, $"#{p.Connection} ").Append(Paint(string.Create(CultureInfo.InvariantCulture, $"⋮ {p.GapMs:F1} ms"), "dim", markup)).Append('\n');
        }

        line.Append(Arrow(p.Connection, p.From, markup));
        line.Append(' ').Append(Paint(p.Flags.PadRight(11), p.Flags.Contains("RST", StringComparison.Ordinal) ? "red" : "bold", markup));
        line.Append(" seq=").Append(p.Seq.PadRight(7));
        line.Append(p.Ack is null ? "            " : " ack=" + p.Ack.PadRight(7));
        if (p.Length > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $" {p.Length} B");
            if (p.Preview is { } preview)
            {
                line.Append(' ').Append(Escape(preview.StartsWith("TLS", StringComparison.Ordinal) ? $"[{preview}]" : $"\"{preview}\"", markup));
            }
        }

        if (p.Retransmission)
        {
            line.Append(' ').Append(Paint("(retransmission)", "red", markup));
        }

        if (p.ZeroWindow)
        {
            line.Append(' ').Append(Paint("(zero window)", "red", markup));
        }

        var states = new List<string>(2);
        void State(string side, string? state)
        {
            if (state is not null)
            {
                states.Add($"{side} {Paint(state, "green", markup)}");
            }
        }

        // The sender's state first: it is the one that acted.
        if (p.From == "client")
        {
            State("client", p.ClientState);
            State("server", p.ServerState);
        }
        else
        {
            State("server", p.ServerState);
            State("client", p.ClientState);
        }

        if (states.Count > 0)
        {
            line.Append("  → ").Append(string.Join(", ", states));
        }

        return line.ToString().TrimEnd();
    }

    private static string Datagram(TraceDatagramLine d, bool markup)
    {
        var line = new StringBuilder(Arrow(d.Connection, d.From, markup));
        line.Append(' ').Append(Paint("UDP".PadRight(11), "bold", markup));
        line.Append(CultureInfo.InvariantCulture, $" {d.Length} B");
        if (d.Preview is { } preview)
        {
            line.Append(' ').Append(Escape($"\"{preview}\"", markup));
        }

        return line.ToString();
    }

    private static string Summary(TraceSummary s, bool markup)
    {
        var parts = new List<string>();
        parts.Add(s.ResetBy is { } reset ? $"reset by the {reset}"
            : s.ClosedFirst is { } first ? $"the {first} closed first" : "closed");
        if (s.TimeWait is { } timeWait)
        {
            parts.Add($"{timeWait} in TIME_WAIT");
        }

        parts.Add(s.HandshakeRttMs is { } rtt ? string.Create(CultureInfo.InvariantCulture, $"handshake RTT {rtt:0.###} ms") : "handshake not seen");
        parts.Add($"client→server {s.BytesClientToServer} B, server→client {s.BytesServerToClient} B");
        parts.Add(s.Retransmissions == 1 ? "1 retransmission" : $"{s.Retransmissions} retransmissions");
        parts.Add($"{s.Packets} packets");
        var text = $"#{s.Connection} end: {string.Join("; ", parts)}";
        return markup ? $"[dim]{Spectre.Console.Markup.Escape(text)}[/]" : text;
    }

    private static string Arrow(int connection, string from, bool markup)
    {
        var arrow = from == "client" ? "client → server" : "server → client";
        return $"#{connection} " + Paint(arrow, from == "client" ? "cyan" : "yellow", markup);
    }

    private static string Paint(string text, string style, bool markup) =>
        markup ? $"[{style}]{Spectre.Console.Markup.Escape(text)}[/]" : text;

    private static string Escape(string text, bool markup) => markup ? Spectre.Console.Markup.Escape(text) : text;
}
