using System.CommandLine.Parsing;
using Shout.Configuration;

namespace Shout.Cli.Parsing;

/// <summary>
/// Value parsers for options and arguments. Each error names the option, the text given and the
/// accepted form, and never a .NET type: System.CommandLine's own conversion errors do both wrong.
/// </summary>
internal static class CliValues
{
    /// <summary>The option (<c>--retries</c>) or argument (<c>&lt;mode&gt;</c>) a result belongs to.</summary>
    public static string NameOf(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : $"<{result.Argument.Name}>";

    public static string LastToken(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Func<ArgumentResult, int> Int(int min, int max = int.MaxValue) => result =>
    {
        var text = LastToken(result);
        if (CountParser.TryParse(text, min, max, out var value, out var error))
        {
            return value;
        }

        result.AddError($"{NameOf(result)}: {error}");
        return min;
    };

    /// <summary>Like <see cref="Int"/> for an option that is unset by default.</summary>
    public static Func<ArgumentResult, int?> OptionalInt(int min, int max = int.MaxValue)
    {
        var parse = Int(min, max);
        return result => parse(result);
    }

    /// <summary>Every token a whole number in range (repeatable options).</summary>
    public static Func<ArgumentResult, int[]> Ints(int min, int max) => result =>
    {
        var values = new List<int>();
        foreach (var token in result.Tokens)
        {
            if (!CountParser.TryParse(token.Value, min, max, out var value, out var error))
            {
                result.AddError($"{NameOf(result)}: {error}");
                return [];
            }

            values.Add(value);
        }

        return [.. values];
    };

    /// <summary>A duration (500ms, 30s, 5m, 1h, 2d), at most what a timer can hold.</summary>
    public static TimeSpan Duration(ArgumentResult result)
    {
        var text = LastToken(result);
        if (DurationParser.TryParse(text, out var value, out var error))
        {
            return value;
        }

        result.AddError($"{NameOf(result)}: {error}");
        return TimeSpan.Zero;
    }

    public static TimeSpan? OptionalDuration(ArgumentResult result) => Duration(result);

    /// <summary>An enum value by its lower-case name, the form help shows.</summary>
    public static T Enum<T>(ArgumentResult result)
        where T : struct, System.Enum
    {
        var text = LastToken(result);
        if (System.Enum.TryParse<T>(text, ignoreCase: true, out var value) && System.Enum.IsDefined(value) && !text.Any(char.IsDigit))
        {
            return value;
        }

        result.AddError($"{NameOf(result)}: '{text}' is not one of {EnumForm<T>(", ")}");
        return default;
    }

    /// <summary>The lower-case names, e.g. <c>pingpong|stream|hold</c>.</summary>
    public static string EnumForm<T>(string separator = "|")
        where T : struct, System.Enum =>
        string.Join(separator, System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
}
