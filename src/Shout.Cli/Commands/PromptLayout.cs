using System.Globalization;

namespace Shout.Cli.Commands;

/// <summary>A cell of the prompt block: rows from its first row, columns from the left edge.</summary>
internal readonly record struct CellPosition(int Row, int Column);

/// <summary>
/// Where the terminal puts prompt + input when they are written at a given width: which row and
/// column each character starts at, how many rows the block takes, where the terminal's cursor is
/// after the write and where the editing cursor must then be put. It models the terminal's own
/// wrapping: a character goes on the next row when it does not fit in what is left of this one (a
/// 2-column character never straddles the edge: the last column stays empty), and after the last
/// column is filled the cursor waits at the edge until the next character arrives. The console
/// writes one space more then (<see cref="EndsAtEdge"/>) so the cursor stands on a row of its own,
/// and the block keeps one shape however the terminal re-wraps it on resize.
/// Pure arithmetic: no console here.
/// </summary>
internal sealed class PromptLayout
{
    private PromptLayout(int rows, CellPosition end, CellPosition cursor, bool endsAtEdge)
    {
        Rows = rows;
        End = end;
        Cursor = cursor;
        EndsAtEdge = endsAtEdge;
    }

    /// <summary>Rows the block takes on screen, the cursor's row included.</summary>
    public int Rows { get; }

    /// <summary>Where the terminal's cursor is once the block is written (after the extra space when <see cref="EndsAtEdge"/>).</summary>
    public CellPosition End { get; }

    /// <summary>Where the editing cursor is: on the character after it, or after the last one.</summary>
    public CellPosition Cursor { get; }

    /// <summary>The text fills its last row exactly: a space and a carriage return put the cursor on the next row.</summary>
    public bool EndsAtEdge { get; }

    /// <summary>Lays out <paramref name="text"/> (the prompt and the input) at <paramref name="width"/> columns, the cursor before the char at <paramref name="cursor"/>.</summary>
    public static PromptLayout Measure(string text, int cursor, int width)
    {
        width = Math.Max(width, 2);
        var row = 0;
        var column = 0;
        CellPosition? cursorAt = null;
        var index = 0;
        var clusters = StringInfo.GetTextElementEnumerator(text);
        while (clusters.MoveNext())
        {
            var cluster = clusters.GetTextElement();
            var cells = TerminalCells.Width(cluster);
            if (column + cells > width)
            {
                row++;
                column = 0;
            }

            if (cursorAt is null && index >= cursor)
            {
                cursorAt = column >= width ? new CellPosition(row + 1, 0) : new CellPosition(row, column);
            }

            column += cells;
            index += cluster.Length;
        }

        var endsAtEdge = column >= width;
        var end = endsAtEdge ? new CellPosition(row + 1, 0) : new CellPosition(row, column);
        return new PromptLayout(end.Row + 1, end, cursorAt ?? end, endsAtEdge);
    }
}
