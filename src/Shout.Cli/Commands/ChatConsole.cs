using System.Runtime.InteropServices;
using Shout.Text;

namespace Shout.Cli.Commands;

/// <summary>
/// The chat terminal: one lock around every write, so a reply printed while the user types is
/// drawn above the prompt and the half-typed line (<see cref="ChatLineBuffer"/>, with its cursor)
/// is redrawn after it. Prompt and input may take several rows (a long line, wide characters): the
/// console remembers what it drew, so each redraw goes back to the block's first row, clears to the
/// end of the screen and writes it again (<see cref="PromptLayout"/>); a resize redraws it at the
/// new width. Ctrl+C ends the session with the shell's prompt on a line of its own.
/// When stdin or stdout is redirected it degrades to plain lines (no prompt, no escape codes).
/// What the server says is shown with its controls escaped on a terminal, raw into a pipe.
/// </summary>
internal sealed class ChatConsole(bool interactive)
{
    private const string Prompt = "> ";
    private readonly Lock _gate = new();
    private readonly ChatLineBuffer _line = new();
    private bool _prompting;
    private Stream? _raw;

    // What the prompt block on screen shows (prompt and input) and where its cursor is; null when none is drawn.
    private string? _shown;
    private int _shownCursor;
    private PosixSignalRegistration? _resize;

    /// <summary>True once the user pressed Ctrl+C.</summary>
    public bool Interrupted { get; private set; }

    /// <summary>
    /// Prints a reply line from the server (its bytes, without the terminator). On a terminal every
    /// control character in it is shown escaped (<see cref="VisibleText"/>): whatever the server,
    /// its text never moves the cursor, clears the screen, sets the title or the clipboard. Into a
    /// pipe or file the line goes as it came (<see cref="TerminalOutput"/>).
    /// </summary>
    public void Reply(ReadOnlySpan<byte> line)
    {
        lock (_gate)
        {
            if (!TerminalOutput.IsTerminal)
            {
                _raw ??= Console.OpenStandardOutput();
                _raw.Write(line);
                _raw.Write("\n"u8);
                _raw.Flush();
                return;
            }

            var text = VisibleText.EscapeToString(line);
            if (interactive)
            {
                Console.Out.Write(ClearBlock() + text + "\r\n" + DrawBlock());
            }
            else
            {
                Console.Out.WriteLine(text);
            }

            Console.Out.Flush();
        }
    }

    /// <summary>Prints a status message to stderr (so piped stdout carries only replies).</summary>
    public void Status(string message)
    {
        lock (_gate)
        {
            if (interactive)
            {
                Console.Out.Write(ClearBlock());
                Console.Out.Flush();
                Console.Error.WriteLine($"\u001b[2m{message}\u001b[0m");
                Console.Out.Write(DrawBlock());
                Console.Out.Flush();
            }
            else
            {
                Console.Error.WriteLine(message);
            }
        }
    }

    /// <summary>The conversation is over (the server closed): the prompt is not drawn again.</summary>
    public void EndPrompt()
    {
        lock (_gate)
        {
            _prompting = false;
        }
    }

    /// <summary>Reads one line; null at end of input (Ctrl+D on an empty line, Ctrl+C, or EOF).</summary>
    public string? ReadLine() => interactive ? ReadInteractive() : Console.In.ReadLine();

    private string? ReadInteractive()
    {
        lock (_gate)
        {
            // Ctrl+C arrives as a key, so the session can end cleanly instead of the process dying mid-line.
            Console.TreatControlCAsInput = true;
            WatchResize();
            _prompting = true;
            Redraw();
        }

        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            lock (_gate)
            {
                if (!_prompting)
                {
                    return null;
                }

                var control = key.Modifiers.HasFlag(ConsoleModifiers.Control);
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        var line = _line.Submit();
                        _prompting = false;
                        Console.Out.Write(ClearBlock() + Prompt + line + "\r\n");
                        Console.Out.Flush();
                        return line;
                    case ConsoleKey.C when control:
                        return Leave(interrupted: true);
                    case ConsoleKey.D when control:
                        if (_line.Text.Length == 0)
                        {
                            return Leave(interrupted: false);
                        }

                        _line.Delete();
                        break;
                    case ConsoleKey.Backspace:
                        _line.Backspace();
                        break;
                    case ConsoleKey.Delete:
                        _line.Delete();
                        break;
                    case ConsoleKey.LeftArrow:
                    case ConsoleKey.B when control:
                        _line.Left();
                        break;
                    case ConsoleKey.RightArrow:
                    case ConsoleKey.F when control:
                        _line.Right();
                        break;
                    case ConsoleKey.Home:
                    case ConsoleKey.A when control:
                        _line.Home();
                        break;
                    case ConsoleKey.End:
                    case ConsoleKey.E when control:
                        _line.End();
                        break;
                    case ConsoleKey.UpArrow:
                    case ConsoleKey.P when control:
                        _line.Previous();
                        break;
                    case ConsoleKey.DownArrow:
                    case ConsoleKey.N when control:
                        _line.Next();
                        break;
                    case ConsoleKey.U when control:
                        _line.DeleteToStart();
                        break;
                    case ConsoleKey.K when control:
                        _line.DeleteToEnd();
                        break;
                    case ConsoleKey.W when control:
                        _line.DeleteWordBefore();
                        break;
                    default:
                        if (key.KeyChar == '\u0003')
                        {
                            return Leave(interrupted: true);
                        }

                        if (key.KeyChar == '\u0004' && _line.Text.Length == 0)
                        {
                            return Leave(interrupted: false);
                        }

                        if (!char.IsControl(key.KeyChar))
                        {
                            _line.Insert(key.KeyChar);
                        }

                        break;
                }

                // A paste, or an emoji's second half, is drawn once all of it has been read.
                if (!_line.Incomplete && !Console.KeyAvailable)
                {
                    Redraw();
                }
            }
        }
    }

    /// <summary>Ends input: the prompt line keeps what was typed (with ^C after it) and the shell gets a fresh line.</summary>
    private string? Leave(bool interrupted)
    {
        Interrupted = interrupted;
        _prompting = false;
        Console.Out.Write(ClearBlock() + Prompt + _line.Text + (interrupted ? "^C" : "") + "\r\n");
        Console.Out.Flush();
        _line.Clear();
        return null;
    }

    private void Redraw()
    {
        Console.Out.Write(ClearBlock() + DrawBlock());
        Console.Out.Flush();
    }

    /// <summary>
    /// Goes back to the first row of the prompt block on screen and clears from there to the end of
    /// the screen. The rows above the cursor are those of what was drawn laid out at today's width:
    /// after a resize the terminal has re-wrapped the block the same way (the trailing space of
    /// <see cref="PromptLayout.EndsAtEdge"/> keeps its shape).
    /// </summary>
    private string ClearBlock()
    {
        if (_shown is null)
        {
            return "";
        }

        var up = PromptLayout.Measure(_shown, _shownCursor, Width()).Cursor.Row;
        _shown = null;
        return "\r" + (up > 0 ? $"\u001b[{up}A" : "") + "\u001b[J";
    }

    /// <summary>Writes prompt and input from the current row's start and puts the cursor where it is in the text.</summary>
    private string DrawBlock()
    {
        if (!_prompting)
        {
            return "";
        }

        var text = Prompt + _line.Text;
        var cursor = Prompt.Length + _line.Cursor;
        var layout = PromptLayout.Measure(text, cursor, Width());
        _shown = text;
        _shownCursor = cursor;
        var up = layout.End.Row - layout.Cursor.Row;
        return text + (layout.EndsAtEdge ? " \r" : "")
            + (up > 0 ? $"\u001b[{up}A" : "")
            + "\r" + (layout.Cursor.Column > 0 ? $"\u001b[{layout.Cursor.Column}C" : "");
    }

    /// <summary>The terminal's width now (read at every redraw: the user may have resized it).</summary>
    private static int Width() => TerminalWidth.Now();

    /// <summary>On Unix a resize (SIGWINCH) redraws the prompt at once at the new width; elsewhere the next key does.</summary>
    private void WatchResize()
    {
        if (_resize is not null || OperatingSystem.IsWindows())
        {
            return;
        }

        _resize = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ =>
        {
            lock (_gate)
            {
                if (_shown is not null)
                {
                    Redraw();
                }
            }
        });
    }
}
