using System.Text.Json;

namespace Shout.Cli.Commands;

/// <summary>
/// A broken <c>--config</c> file in one line naming the file, the line and the column (as an editor
/// counts them, from 1) and what is wrong, in place of System.Text.Json's text.
/// </summary>
internal static class ConfigJsonError
{
    public static string Describe(string path, Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is JsonException { LineNumber: { } line } json)
            {
                var column = json.BytePositionInLine is { } position ? $", column {position + 1}" : "";
                return $"{path}: not valid JSON at line {line + 1}{column}: {Reason(json.Message)}";
            }
        }

        return $"{path}: not valid JSON ({(error.InnerException ?? error).Message.Split('\n')[0]})";
    }

    /// <summary>The reader's first sentence, without its own position suffix; the commonest said plainly.</summary>
    private static string Reason(string message)
    {
        if (message.Contains("open JSON object or array", StringComparison.Ordinal))
        {
            return "the file ends before an object or array is closed";
        }

        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var text = (cut < 0 ? message : message[..cut]).Trim();
        var sentence = text.IndexOf(". ", StringComparison.Ordinal);
        return (sentence < 0 ? text : text[..sentence]).TrimEnd('.');
    }
}
