using System.Globalization;
using Spectre.Console;

namespace Shout.Cli.Commands;

/// <summary>
/// How many terminal columns text takes. The unit is the grapheme cluster (what a user sees as one
/// character: <c>é</c> written as e + U+0301, a flag, an emoji with its skin tone), measured by
/// Spectre.Console's wcwidth tables: CJK and most emoji are 2 columns, combining marks 0, the rest 1.
/// Terminals still disagree on some emoji sequences (ZWJ families, U+FE0F, skin tones); plain
/// emoji, CJK and every letter are the same everywhere.
/// </summary>
internal static class TerminalCells
{
    /// <summary>The columns one grapheme cluster takes: 0, 1 or 2 (a control counts as 0; it is never drawn raw).</summary>
    public static int Width(string cluster) => Math.Clamp(cluster.GetCellWidth(), 0, 2);

    /// <summary>The columns of a whole string, cluster by cluster.</summary>
    public static int StringWidth(string text)
    {
        var width = 0;
        var clusters = StringInfo.GetTextElementEnumerator(text);
        while (clusters.MoveNext())
        {
            width += Width(clusters.GetTextElement());
        }

        return width;
    }

    /// <summary>The index of the cluster boundary before <paramref name="index"/> (0 at the start).</summary>
    public static int PreviousBoundary(string text, int index)
    {
        var previous = 0;
        var at = 0;
        while (at < index && at < text.Length)
        {
            previous = at;
            at += StringInfo.GetNextTextElementLength(text, at);
        }

        return previous;
    }

    /// <summary>The index of the cluster boundary after <paramref name="index"/> (the length at the end).</summary>
    public static int NextBoundary(string text, int index) =>
        index >= text.Length ? text.Length : index + StringInfo.GetNextTextElementLength(text, index);
}
