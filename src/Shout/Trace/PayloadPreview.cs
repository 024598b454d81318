using System.Text;

namespace Shout.Trace;

/// <summary>A short, printable, one-line look at a payload, for a trace line.</summary>
internal static class PayloadPreview
{
    /// <summary>Most characters shown.</summary>
    public const int MaxCharacters = 24;

    /// <summary>
    /// The payload's start as text: printable ASCII as is, <c>\n</c>, <c>\r</c> and <c>\t</c> escaped,
    /// any other byte as <c>.</c>; <c>…</c> when there is more.
    /// </summary>
    public static string Text(ReadOnlySpan<byte> payload)
    {
        var text = new StringBuilder(MaxCharacters + 4);
        var shown = 0;
        var i = 0;
        for (; i < payload.Length && shown < MaxCharacters; i++, shown++)
        {
            var b = payload[i];
            text.Append(b switch
            {
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7F => ((char)b).ToString(),
                _ => ".",
            });
        }

        if (i < payload.Length)
        {
            text.Append('…');
        }

        return text.ToString();
    }

    /// <summary>
    /// When the payload starts with a TLS record header (content type 20–23, version 3.x), its type,
    /// e.g. <c>TLS handshake</c>; else null. Reading two bytes to name the record is all the trace
    /// does with TLS: the rest is ciphertext and is never shown.
    /// </summary>
    public static string? TlsRecord(ReadOnlySpan<byte> payload) =>
        payload.Length < 5 || payload[1] != 3 ? null
        : payload[0] switch
        {
            20 => "TLS change cipher spec",
            21 => "TLS alert",
            22 => "TLS handshake",
            23 => "TLS application data",
            _ => null,
        };
}
