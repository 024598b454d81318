using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Shout.IntegrationTests.Infrastructure;

namespace Shout.IntegrationTests.Cli;

/// <summary>
/// <c>shout chat</c>'s prompt in a real terminal (tmux) when the line is wider than the terminal:
/// long ASCII, CJK and emoji lines, lines pushed by the server while typing, a resize mid-line.
/// After every key or chunk the screen must show the prompt block exactly once, laid out as the
/// terminal wraps it, with nothing under it, and the terminal's cursor on the expected cell.
/// </summary>
public sealed class ChatWrapTests
{
    private const int Height = 30;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(20)]
    [InlineData(40)]
    [InlineData(80)]
    [InlineData(200)]
    public async Task Long_cjk_and_emoji_lines_redraw_in_place_at_any_width_and_after_a_resize(int width)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var terminal = await TmuxSession.StartAsync($"dotnet '{Repo.CliDll}' chat -a 127.0.0.1:{port}", width, Height);
        using var accept = new CancellationTokenSource(Timeout);
        using var server = await listener.AcceptSocketAsync(accept.Token);
        var chat = new Typist(terminal, server, width);
        await chat.ExpectBlockAsync();

        // A line over two widths long, ASCII, with a pushed line half way and a resize later.
        var ascii = string.Concat(Enumerable.Range(0, 2 * width + 5).Select(i => (char)('a' + i % 26)));
        await chat.TypeAsync("ascii:" + ascii, pushAt: width, resizeAt: width + width / 2, resizeTo: width / 2 + 3);
        await chat.EnterAsync();

        // CJK, back at the first width from half way; then the cursor moves left over wide characters.
        var cjk = string.Concat(Enumerable.Range(0, width + 3).Select(i => "中文字符漢語한국어"[i % 9]));
        await chat.TypeAsync(cjk, pushAt: width / 3, resizeAt: width / 2, resizeTo: width);
        await chat.KeysAsync("Left", "Left", "Left");
        await chat.TypeAsync("x");
        await chat.KeysAsync("End");
        await chat.EnterAsync();

        // Emoji (2 columns, 2 UTF-16 chars each); Backspace takes a whole one.
        string[] emoji = ["😀", "🎉", "🚀", "🌍"];
        var faces = string.Concat(Enumerable.Range(0, width / 2 + 3).Select(i => emoji[i % emoji.Length]));
        await chat.TypeAsync(faces, pushAt: 5, resizeAt: -1, resizeTo: 0);
        await chat.KeysAsync("BSpace");
        await chat.EnterAsync();
    }

    /// <summary>Types into chat step by step and checks the screen after each step against its own model of the terminal.</summary>
    private sealed class Typist(TmuxSession terminal, Socket server, int width)
    {
        private readonly List<string> _line = [];
        private readonly byte[] _received = new byte[64 * 1024];
        private int _receivedCount;
        private int _cursor;
        private int _width = width;
        private int _pushes;

        /// <summary>Types <paramref name="text"/> in chunks that stop at every row's edge; pushes a server line and resizes at the given offsets.</summary>
        public async Task TypeAsync(string text, int pushAt = -1, int resizeAt = -1, int resizeTo = 0)
        {
            var elements = Elements(text);
            var chunk = new StringBuilder();
            for (var i = 0; i < elements.Count; i++)
            {
                chunk.Append(elements[i]);
                _line.Insert(_cursor++, elements[i]);
                if (chunk.Length >= 9 || i == elements.Count - 1 || NearEdge() || i + 1 == pushAt || i + 1 == resizeAt)
                {
                    await terminal.TypeAsync(chunk.ToString());
                    chunk.Clear();
                    await ExpectBlockAsync();
                }

                if (i + 1 == pushAt)
                {
                    await PushAsync();
                }

                if (i + 1 == resizeAt)
                {
                    _width = resizeTo;
                    await terminal.ResizeAsync(resizeTo, Height);
                    await ExpectBlockAsync();
                }
            }
        }

        public async Task KeysAsync(params string[] keys)
        {
            foreach (var key in keys)
            {
                _cursor = key switch
                {
                    "Left" => Math.Max(0, _cursor - 1),
                    "End" => _line.Count,
                    "BSpace" => _cursor - 1,
                    _ => throw new ArgumentException(key),
                };
                if (key == "BSpace")
                {
                    _line.RemoveAt(_cursor);
                }

                await terminal.KeysAsync(key);
                await ExpectBlockAsync();
            }
        }

        /// <summary>Enter: the server gets the line exactly once, its reply is shown, the prompt is empty again.</summary>
        public async Task EnterAsync()
        {
            var line = string.Concat(_line);
            await terminal.KeysAsync("Enter");
            Assert.Equal(line + "\n", await ReceiveLineAsync());
            _line.Clear();
            _cursor = 0;
            await ExpectBlockAsync();

            // The reply is the line in capitals; it wraps above the prompt like any received line.
            var reply = line.ToUpperInvariant();
            await server.SendAsync(Encoding.UTF8.GetBytes(reply + "\n"));
            await ExpectBlockAsync(above: reply);
        }

        /// <summary>The server says something that wraps while a line is half typed.</summary>
        private async Task PushAsync()
        {
            var pushed = $"PUSH{++_pushes}:" + new string('P', _width + 7);
            await server.SendAsync(Encoding.UTF8.GetBytes(pushed + "\n"));
            await ExpectBlockAsync(above: pushed);
        }

        private async Task<string> ReceiveLineAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            while (Array.IndexOf(_received, (byte)'\n', 0, _receivedCount) is var end && end < 0)
            {
                var n = await server.ReceiveAsync(_received.AsMemory(_receivedCount), SocketFlags.None, timeout.Token);
                Assert.True(n > 0, "chat closed the connection");
                _receivedCount += n;
            }

            var newline = Array.IndexOf(_received, (byte)'\n', 0, _receivedCount);
            var line = Encoding.UTF8.GetString(_received, 0, newline + 1);
            Array.Copy(_received, newline + 1, _received, 0, _receivedCount - newline - 1);
            _receivedCount -= newline + 1;
            return line;
        }

        /// <summary>True when the last character typed ends a row, or the next one would not fit on it: typed alone, so every edge is checked.</summary>
        private bool NearEdge()
        {
            var (rows, _, _) = Layout([">", " ", .. _line], -1, _width);
            var column = rows[^1].Sum(Cells);
            return column == 0 || column >= _width - 2;
        }

        /// <summary>
        /// Waits until the prompt block (prompt + what was typed, wrapped as the terminal does) is on
        /// screen exactly once with only blank rows under it, <paramref name="above"/> (if given)
        /// wrapped right above it, no stray prompt anywhere, and the cursor on the expected cell.
        /// </summary>
        public Task<string> ExpectBlockAsync(string? above = null)
        {
            var (rows, cursorRow, cursorColumn) = Layout([">", " ", .. _line], _cursor + 2, _width);
            var expected = rows.Select(r => string.Concat(r).TrimEnd()).ToList();
            var typed = string.Concat(_line);
            var aboveRows = above is null ? [] : Received(above, _width);
            return terminal.WaitForScreenAndCursorAsync((screen, x, y) =>
            {
                var lines = screen.Split('\n').Select(l => l.TrimEnd()).ToList();
                var start = Enumerable.Range(0, lines.Count).LastOrDefault(i => lines.Skip(i).Take(expected.Count).SequenceEqual(expected), -1);
                if (start < 0)
                {
                    return $"the prompt block is not on screen; expected rows:\n{string.Join('\n', expected)}";
                }

                if (lines.Skip(start + expected.Count).Any(l => l.Length > 0))
                {
                    return "something is under the prompt block";
                }

                if (typed.Length > 0 && lines.Count(l => l.StartsWith(expected[0], StringComparison.Ordinal) || (l.StartsWith("> ", StringComparison.Ordinal) && expected[0].StartsWith(l, StringComparison.Ordinal))) != 1)
                {
                    return "the prompt's first row is on screen more than once";
                }

                if (lines.Take(start).Any(l => l == ">"))
                {
                    return "a stray prompt is left above the block";
                }

                if (aboveRows.Count > 0 && !lines.Skip(start - aboveRows.Count).Take(aboveRows.Count).SequenceEqual(aboveRows))
                {
                    return $"the received line is not right above the prompt, wrapped:\n{string.Join('\n', aboveRows)}";
                }

                return (x, y) == (cursorColumn, start + cursorRow) ? null : $"the cursor should be at {cursorColumn} {start + cursorRow}";
            });
        }

        private static List<string> Elements(string text)
        {
            var elements = new List<string>();
            var e = StringInfo.GetTextElementEnumerator(text);
            while (e.MoveNext())
            {
                elements.Add(e.GetTextElement());
            }

            return elements;
        }

        /// <summary>Columns of the characters this test types: ASCII 1, CJK and emoji 2.</summary>
        private static int Cells(string element) => element.Length == 1 && element[0] < 0x1100 ? 1 : 2;

        /// <summary>
        /// The terminal's wrapping, written out for this test: a character that does not fit goes on
        /// the next row (a wide one leaves the last column empty); a row filled exactly puts the cursor
        /// on the next row. Returns the rows, and the row and column of the element at <paramref name="cursor"/>.
        /// </summary>
        private static (List<List<string>> Rows, int Row, int Column) Layout(List<string> elements, int cursor, int width)
        {
            var rows = new List<List<string>> { new() };
            var column = 0;
            (int, int)? at = null;
            for (var i = 0; i < elements.Count; i++)
            {
                var cells = Cells(elements[i]);
                if (column + cells > width)
                {
                    rows.Add([]);
                    column = 0;
                }

                if (i == cursor)
                {
                    at = (rows.Count - 1, column);
                }

                rows[^1].Add(elements[i]);
                column += cells;
            }

            if (column == width)
            {
                rows.Add([]);
                column = 0;
            }

            var (row, col) = at ?? (rows.Count - 1, column);
            return (rows, row, col);
        }

        /// <summary>The rows a received line takes: wrapped the same way, without a row for the cursor after it.</summary>
        private static List<string> Received(string line, int width)
        {
            var rows = Layout(Elements(line), -1, width).Rows.Select(r => string.Concat(r)).ToList();
            return rows.Count > 1 && rows[^1].Length == 0 ? rows[..^1] : rows;
        }
    }
}
