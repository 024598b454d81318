using Shout.Text;

namespace Shout.Cli.Commands;

/// <summary>
/// The chat terminal: one lock around every write, so a reply printed while the user types is
/// drawn above the prompt and the half-typed line (<see cref="ChatLineBuffer"/>, with its cursor)
/// is redrawn after it. Ctrl+C ends the session with the shell's prompt on a line of its own.
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
                Console.Out.Write("\r\u001b[2K" + text + "\n" + PromptLine);
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
                Console.Out.Write("\r\u001b[2K");
                Console.Out.Flush();
                Console.Error.WriteLine($"\u001b[2m{message}\u001b[0m");
                Console.Out.Write(PromptLine);
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

    /// <summary>What the prompt line shows now, with the cursor put back where it is in the text.</summary>
    private string PromptLine
    {
        get
        {
            if (!_prompting)
            {
                return "";
            }

            var back = _line.Text.Length - _line.Cursor;
            return Prompt + _line.Text + (back > 0 ? $"\u001b[{back}D" : "");
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
                        Console.Out.Write("\r\u001b[2K" + Prompt + line + "\n");
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

                Redraw();
            }
        }
    }

    /// <summary>Ends input: the prompt line keeps what was typed (with ^C after it) and the shell gets a fresh line.</summary>
    private string? Leave(bool interrupted)
    {
        Interrupted = interrupted;
        _prompting = false;
        Console.Out.Write("\r\u001b[2K" + Prompt + _line.Text + (interrupted ? "^C" : "") + "\n");
        Console.Out.Flush();
        _line.Clear();
        return null;
    }

    private void Redraw()
    {
        Console.Out.Write("\r\u001b[2K" + PromptLine);
        Console.Out.Flush();
    }
}
