using System.Text;

namespace Shout.Cli.Commands;

/// <summary>
/// The line being typed in <c>chat</c>, with a cursor and a history, edited the way readline and
/// every shell do: arrows, Home/End (Ctrl+A/E), Ctrl+U (to the start), Ctrl+K (to the end),
/// Ctrl+W (the word before the cursor), Up/Down through earlier lines. The cursor moves and deletes
/// by what the user sees as one character (a grapheme cluster: an emoji, a CJK character, a letter
/// with its accents), never inside one. Pure state: no console here.
/// </summary>
internal sealed class ChatLineBuffer
{
    private const int MaxHistory = 500;
    private readonly StringBuilder _text = new();
    private readonly List<string> _history = [];
    private int _historyIndex;
    private string _draft = "";

    public string Text => _text.ToString();

    /// <summary>UTF-16 chars before the cursor (0 … Text.Length), always at a cluster boundary once a character is complete.</summary>
    public int Cursor { get; private set; }

    public IReadOnlyList<string> History => _history;

    public void Insert(char c)
    {
        _text.Insert(Cursor, c);
        Cursor++;
    }

    /// <summary>True while the last char typed is the first half of a surrogate pair (an emoji arrives as two keys).</summary>
    public bool Incomplete => Cursor > 0 && char.IsHighSurrogate(_text[Cursor - 1]);

    public void Backspace()
    {
        var text = Text;
        var start = TerminalCells.PreviousBoundary(text, Cursor);
        _text.Remove(start, Cursor - start);
        Cursor = start;
    }

    public void Delete()
    {
        var end = TerminalCells.NextBoundary(Text, Cursor);
        _text.Remove(Cursor, end - Cursor);
    }

    public void Left() => Cursor = TerminalCells.PreviousBoundary(Text, Cursor);

    public void Right() => Cursor = TerminalCells.NextBoundary(Text, Cursor);

    public void Home() => Cursor = 0;

    public void End() => Cursor = _text.Length;

    /// <summary>Ctrl+U: deletes from the start of the line to the cursor.</summary>
    public void DeleteToStart()
    {
        _text.Remove(0, Cursor);
        Cursor = 0;
    }

    /// <summary>Ctrl+K: deletes from the cursor to the end of the line.</summary>
    public void DeleteToEnd() => _text.Length = Cursor;

    /// <summary>Ctrl+W: deletes the word before the cursor and the spaces after it, as readline's unix-word-rubout.</summary>
    public void DeleteWordBefore()
    {
        var start = Cursor;
        while (start > 0 && char.IsWhiteSpace(_text[start - 1]))
        {
            start--;
        }

        while (start > 0 && !char.IsWhiteSpace(_text[start - 1]))
        {
            start--;
        }

        _text.Remove(start, Cursor - start);
        Cursor = start;
    }

    /// <summary>Up: the previous line of the history (the line being typed is kept as a draft).</summary>
    public void Previous()
    {
        if (_historyIndex == 0)
        {
            return;
        }

        if (_historyIndex == _history.Count)
        {
            _draft = Text;
        }

        Show(_history[--_historyIndex]);
    }

    /// <summary>Down: the next line of the history, and past the last one the draft again.</summary>
    public void Next()
    {
        if (_historyIndex >= _history.Count)
        {
            return;
        }

        _historyIndex++;
        Show(_historyIndex == _history.Count ? _draft : _history[_historyIndex]);
    }

    /// <summary>Enter: returns the line, remembers it (not twice in a row, not blank) and starts a new one.</summary>
    public string Submit()
    {
        var line = Text;
        if (line.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != line))
        {
            _history.Add(line);
            if (_history.Count > MaxHistory)
            {
                _history.RemoveAt(0);
            }
        }

        Clear();
        return line;
    }

    public void Clear()
    {
        _text.Clear();
        Cursor = 0;
        _historyIndex = _history.Count;
        _draft = "";
    }

    private void Show(string line)
    {
        _text.Clear().Append(line);
        Cursor = _text.Length;
    }
}
