using Shout.Cli.Commands;

namespace Shout.IntegrationTests.Cli;

/// <summary>The row and column arithmetic of chat's prompt block (<see cref="PromptLayout"/>) and cluster editing (<see cref="ChatLineBuffer"/>).</summary>
public sealed class PromptLayoutTests
{
    [Theory]
    [InlineData("> hi", 4, 10, 1, 0, 4, 0, 4, false)] // fits: one row, cursor after the text
    [InlineData("> abcdefgh", 10, 10, 2, 1, 0, 1, 0, true)] // fills the row exactly: the cursor stands on the next row
    [InlineData("> abcdefghi", 11, 10, 2, 1, 1, 1, 1, false)] // one past the edge
    [InlineData("> abcdefghijklmnopqrstuvw", 25, 10, 3, 2, 5, 2, 5, false)] // over two widths
    [InlineData("> abcdefghijklmnopqrstuvw", 3, 10, 3, 2, 5, 0, 3, false)] // cursor on the first row
    [InlineData("> abcdefghijklmnopqrstuvw", 12, 10, 3, 2, 5, 1, 2, false)] // cursor on the middle row
    public void Ascii_wraps_at_the_width(string text, int cursor, int width, int rows, int endRow, int endColumn, int cursorRow, int cursorColumn, bool atEdge)
    {
        var layout = PromptLayout.Measure(text, cursor, width);
        Assert.Equal(rows, layout.Rows);
        Assert.Equal(new CellPosition(endRow, endColumn), layout.End);
        Assert.Equal(new CellPosition(cursorRow, cursorColumn), layout.Cursor);
        Assert.Equal(atEdge, layout.EndsAtEdge);
    }

    [Fact]
    public void A_wide_character_that_does_not_fit_goes_to_the_next_row_and_leaves_the_last_column_empty()
    {
        // "> abc" takes 5 of 6 columns; 中 needs 2.
        var layout = PromptLayout.Measure("> abc中", 5, 6);
        Assert.Equal(new CellPosition(1, 2), layout.End);
        Assert.Equal(new CellPosition(1, 0), layout.Cursor); // on the 中, not in the empty column
        Assert.False(layout.EndsAtEdge);
    }

    [Fact]
    public void Wide_characters_that_fill_a_row_exactly_put_the_cursor_on_the_next_row()
    {
        var layout = PromptLayout.Measure("> 中文", 4, 6);
        Assert.True(layout.EndsAtEdge);
        Assert.Equal(new CellPosition(1, 0), layout.End);
        Assert.Equal(2, layout.Rows);
    }

    [Fact]
    public void The_cursor_after_cjk_is_counted_in_columns_not_chars()
    {
        // Three CJK characters, the cursor before the last: 2 + 2 + 2 columns.
        var layout = PromptLayout.Measure("> 中文字", 4, 80);
        Assert.Equal(new CellPosition(0, 6), layout.Cursor);
        Assert.Equal(new CellPosition(0, 8), layout.End);
    }

    [Fact]
    public void An_emoji_is_two_utf16_chars_and_two_columns()
    {
        var layout = PromptLayout.Measure("> 😀😀x", 6, 80);
        Assert.Equal(new CellPosition(0, 7), layout.End);
        Assert.Equal(new CellPosition(0, 6), layout.Cursor);
    }

    [Theory]
    [InlineData("e\u0301", 1)] // a letter and its combining accent: one column
    [InlineData("中", 2)]
    [InlineData("한", 2)]
    [InlineData("😀", 2)]
    [InlineData("ｱ", 1)] // half-width katakana
    [InlineData("a", 1)]
    public void Cluster_widths_follow_wcwidth(string cluster, int width) => Assert.Equal(width, TerminalCells.Width(cluster));

    [Fact]
    public void The_same_text_is_laid_out_again_at_a_new_width()
    {
        var text = "> " + new string('y', 46);
        Assert.Equal(new CellPosition(1, 8), PromptLayout.Measure(text, text.Length, 40).Cursor);
        Assert.Equal(new CellPosition(2, 8), PromptLayout.Measure(text, text.Length, 20).Cursor);
        Assert.Equal(new CellPosition(0, 48), PromptLayout.Measure(text, text.Length, 100).Cursor);
    }

    [Fact]
    public void Arrows_and_deletion_move_by_whole_characters()
    {
        var line = new ChatLineBuffer();
        foreach (var c in "a😀e\u0301中")
        {
            line.Insert(c);
        }

        Assert.False(line.Incomplete);
        line.Left();
        Assert.Equal("a😀e\u0301".Length, line.Cursor);
        line.Left();
        Assert.Equal("a😀".Length, line.Cursor);
        line.Backspace();
        Assert.Equal("ae\u0301中", line.Text);
        Assert.Equal(1, line.Cursor);
        line.Delete();
        Assert.Equal("a中", line.Text);
        line.Right();
        Assert.Equal(2, line.Cursor);
    }

    [Fact]
    public void Half_an_emoji_is_incomplete_until_its_second_char_arrives()
    {
        var line = new ChatLineBuffer();
        line.Insert("😀"[0]);
        Assert.True(line.Incomplete);
        line.Insert("😀"[1]);
        Assert.False(line.Incomplete);
    }
}
