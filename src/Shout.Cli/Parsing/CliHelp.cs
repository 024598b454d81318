using System.CommandLine;
using System.CommandLine.Help;
using System.Text;
using System.Text.RegularExpressions;

namespace Shout.Cli.Parsing;

/// <summary>
/// Help in the parser's own terms. Each option's description states its default in the form the
/// parser accepts (<c>5s</c>, <c>pingpong</c>), so System.CommandLine's <c>[default: 00:00:05]</c>
/// beside it is dropped; value placeholders name the form (<c>&lt;duration&gt;</c>) rather than the
/// .NET type (each option's <c>HelpName</c>). Commands may put options under headings of their own.
/// System.CommandLine 2.0 keeps its help builder internal, so this works on the text it writes,
/// unwrapped, and wraps it again to the terminal.
/// </summary>
internal static partial class CliHelp
{
    private static readonly Dictionary<Option, string> Groups = [];

    /// <summary>Shows <paramref name="options"/> under a heading of their own in help, after the others.</summary>
    public static void Group(string heading, IEnumerable<Option> options)
    {
        foreach (var option in options)
        {
            Groups[option] = heading;
        }
    }

    /// <summary>The form of an option's value, e.g. <c>&lt;duration&gt; such as 500ms, 30s, 5m, 1h</c>.</summary>
    public static string ValueForm(Option option) =>
        option.HelpName is { Length: > 0 } name ? $"<{name}>" + Example(name) : $"<{option.Name.TrimStart('-')}>";

    /// <summary>Writes help for the parsed command to stdout.</summary>
    public static async Task<int> WriteAsync(ParseResult parse, HelpAction action)
    {
        // Unwrapped, so that each option is one line to move and clean; wrapped again below.
        action.MaxWidth = int.MaxValue;
        await using var text = new StringWriter();
        var code = await parse.InvokeAsync(new InvocationConfiguration { Output = text, ProcessTerminationTimeout = null });
        var width = Console.IsOutputRedirected ? 100 : Math.Max(60, Console.WindowWidth);
        await Console.Out.WriteAsync(Rewrite(text.ToString(), parse.CommandResult.Command, width));
        return code;
    }

    /// <summary>Rewrites System.CommandLine's help text: no defaults in .NET form, groups, wrapping.</summary>
    public static string Rewrite(string help, Command command, int width)
    {
        var lines = help.Replace("\r", "", StringComparison.Ordinal).Split('\n')
            .Select(l => DefaultSuffix().Replace(l, "")).ToList();
        var grouped = command.Options.Where(Groups.ContainsKey).ToList();
        if (grouped.Count > 0)
        {
            var sections = new Dictionary<string, List<string>>();
            foreach (var option in grouped)
            {
                var index = lines.FindIndex(l => IsRowOf(l, option));
                if (index < 0)
                {
                    continue;
                }

                var heading = Groups[option];
                if (!sections.TryGetValue(heading, out var rows))
                {
                    sections[heading] = rows = [];
                }

                rows.Add(lines[index]);
                lines.RemoveAt(index);
            }

            while (lines.Count > 0 && lines[^1].Length == 0)
            {
                lines.RemoveAt(lines.Count - 1);
            }

            foreach (var (heading, rows) in sections)
            {
                lines.Add("");
                lines.Add(heading + ":");
                lines.AddRange(rows);
            }

            lines.Add("");
        }

        var output = new StringBuilder();
        foreach (var line in lines)
        {
            Wrap(output, line, width);
        }

        return output.ToString().TrimEnd('\n') + "\n\n";
    }

    private static bool IsRowOf(string line, Option option) =>
        line.StartsWith("  ", StringComparison.Ordinal)
        && RowFirstColumn().Match(line) is { Success: true } m
        && m.Groups[1].Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Contains(option.Name);

    private static void Wrap(StringBuilder output, string line, int width)
    {
        var m = RowFirstColumn().Match(line);
        var indent = m.Success ? m.Length : line.Length - line.TrimStart().Length;
        if (line.Length <= width || indent >= width - 20)
        {
            output.Append(line).Append('\n');
            return;
        }

        var prefix = line[..indent];
        var rest = line[indent..];
        var pad = new string(' ', indent);
        var first = true;
        while (rest.Length > 0)
        {
            var room = width - indent;
            var cut = rest.Length <= room ? rest.Length : rest.LastIndexOf(' ', room);
            cut = cut <= 0 ? Math.Min(room, rest.Length) : cut;
            output.Append(first ? prefix : pad).Append(rest[..cut].TrimEnd()).Append('\n');
            rest = rest[cut..].TrimStart();
            first = false;
        }
    }

    private static string Example(string helpName) => helpName switch
    {
        "duration" => " such as 500ms, 30s, 5m, 1h",
        "count" or "number" => " (a whole number)",
        _ => "",
    };

    [GeneratedRegex(@" ?\[default: [^\]]*\]")]
    private static partial Regex DefaultSuffix();

    /// <summary>A help row: two spaces, the option's names and value form, then two or more spaces.</summary>
    [GeneratedRegex(@"^  (\S.*?)\s{2,}")]
    private static partial Regex RowFirstColumn();
}
