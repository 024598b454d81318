using System.Text;

namespace Shout.Cli.Commands;

/// <summary>
/// The chat terminal: one lock around every write, so a reply printed while the user types is
/// drawn above the prompt and the half-typed line is redrawn after it. When stdin or stdout is
/// redirected it degrades to plain lines (no prompt, no escape codes).
/// </summary>
internal sealed class ChatConsole(bool interactive)
{
    private const string Prompt = "> ";
    private readonly Lock _gate = new();
    private readonly StringBuilder _typed = new();
    private bool _prompting;

    /// <summary>Prints a reply line from the server.</summary>
    public void Reply(string line)
    {
        lock (_gate)
        {
            if (interactive)
            {
                Console.Out.Write("\r\u001b[2K" + line + "\n" + PromptLine);
            }
            else
            {
                Console.Out.WriteLine(line);
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
                Console.Error.WriteLine($"\u001b[2m{message}\u001b[0m");
                Console.Out.Write(PromptLine);
            }
            else
            {
                Console.Error.WriteLine(message);
            }
        }
    }

    /// <summary>What the prompt line shows now: nothing unless a line is being read.</summary>
    private string PromptLine => _prompting ? Prompt + _typed : "";

    /// <summary>Reads one line; null at end of input (Ctrl+D on an empty line, or EOF).</summary>
    public string? ReadLine() => interactive ? ReadInteractive() : Console.In.ReadLine();

    private string? ReadInteractive()
    {
        lock (_gate)
        {
            _prompting = true;
            Console.Out.Write(Prompt);
        }

        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            lock (_gate)
            {
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        var line = _typed.ToString();
                        _typed.Clear();
                        _prompting = false;
                        Console.Out.Write("\r\u001b[2K" + Prompt + line + "\n");
                        return line;
                    case ConsoleKey.Backspace when _typed.Length > 0:
                        _typed.Length--;
                        Console.Out.Write("\b \b");
                        break;
                    case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && _typed.Length == 0:
                        _prompting = false;
                        Console.Out.Write("\n");
                        return null;
                    default:
                        if (key.KeyChar == '\u0004' && _typed.Length == 0)
                        {
                            _prompting = false;
                            Console.Out.Write("\n");
                            return null;
                        }

                        if (!char.IsControl(key.KeyChar))
                        {
                            _typed.Append(key.KeyChar);
                            Console.Out.Write(key.KeyChar);
                        }

                        break;
                }
            }
        }
    }
}
