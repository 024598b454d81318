using System.Text;
using System.Text.RegularExpressions;

namespace Shout.Cli.Commands;

/// <summary>
/// Recognises the line a Shout server sends a connection it will not serve (a limit), so that
/// <c>send</c> fails (exit 1) instead of printing the refusal as if it were the answer. Only the
/// whole first line in Shout's exact format counts: an answer that merely contains "ERR" is data.
/// </summary>
internal static partial class ShoutRefusal
{
    /// <summary>The longest first line looked at; a refusal is far shorter.</summary>
    public const int MaxLine = 128;

    /// <summary>True when <paramref name="firstLine"/> (without its newline) is a Shout refusal.</summary>
    public static bool Is(ReadOnlySpan<byte> firstLine) =>
        firstLine.Length <= MaxLine && Refusal().IsMatch(Encoding.ASCII.GetString(firstLine));

    [GeneratedRegex(@"^ERR (server busy \(max \d+ connections\)|too many connections from your address \(max \d+\))$", RegexOptions.CultureInvariant)]
    private static partial Regex Refusal();
}

/// <summary>Keeps the first line of a reply stream, up to <see cref="ShoutRefusal.MaxLine"/> bytes, to test it afterwards.</summary>
internal sealed class FirstLine
{
    private readonly byte[] _line = new byte[ShoutRefusal.MaxLine + 1];
    private int _length;
    private bool _done;

    public void Add(ReadOnlySpan<byte> data)
    {
        if (_done)
        {
            return;
        }

        var newline = data.IndexOf((byte)'\n');
        var take = Math.Min(newline < 0 ? data.Length : newline, _line.Length - _length);
        data[..take].CopyTo(_line.AsSpan(_length));
        _length += take;
        _done = newline >= 0 || _length == _line.Length;
    }

    /// <summary>True when the reply began with a whole Shout refusal line.</summary>
    public bool IsRefusal => _done && _length <= ShoutRefusal.MaxLine && ShoutRefusal.Is(_line.AsSpan(0, _length));

    public string Text => Encoding.ASCII.GetString(_line, 0, _length);
}
