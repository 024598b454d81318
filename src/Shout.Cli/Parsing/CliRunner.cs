using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace Shout.Cli.Parsing;

/// <summary>
/// Parses the command line and refuses a bad one the way POSIX tools do: the first problem on one
/// line of stderr, naming the option and the accepted form, then a pointer to <c>--help</c>, exit 2,
/// and nothing run (so a typo never reaches a server). An unknown option is an error even where a
/// command takes free words: a message that starts with <c>-</c> follows <c>--</c>.
/// </summary>
internal static class CliRunner
{
    /// <summary>The exit code of a command line that could not be used (as in BSD's sysexits and GNU tools).</summary>
    public const int UsageError = 2;

    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Action is HelpAction help)
        {
            return await CliHelp.WriteAsync(parse, help);
        }

        if (FirstError(parse) is { } error)
        {
            var command = CommandPath(parse.CommandResult);
            await Console.Error.WriteLineAsync($"{command}: {error}");
            await Console.Error.WriteLineAsync($"Try '{command} --help' for more information.");
            return UsageError;
        }

        // Signals belong to the commands (the server drains on SIGTERM), not to the parser's own handler.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    /// <summary>
    /// A usage error found by a command's action (one that needs what the parser cannot see, such as
    /// where "--" was), told and exited as the parser's own.
    /// </summary>
    public static async Task<int> UsageErrorAsync(ParseResult parse, string error)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var command = CommandPath(parse.CommandResult);
        await Console.Error.WriteLineAsync($"{command}: {error}");
        await Console.Error.WriteLineAsync($"Try '{command} --help' for more information.");
        return UsageError;
    }

    /// <summary>The first thing wrong with the command line, in words; null when it can run.</summary>
    internal static string? FirstError(ParseResult parse)
    {
        // --help and --version run whatever else is on the line, as everywhere.
        if (parse.Action is HelpAction || parse.Tokens.Any(t => t.Type == TokenType.Option && t.Value is "--version" && parse.CommandResult.Parent is null))
        {
            return null;
        }

        var doubleDash = IndexOf(parse.Tokens, t => t.Type == TokenType.DoubleDash);
        // A word for the command's own arguments (the message of send) that looks like an option
        // and came before "--" is a typo, not data.
        var words = parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens);
        foreach (var token in words)
        {
            var index = IndexOf(parse.Tokens, t => ReferenceEquals(t, token));
            if ((doubleDash < 0 || index < doubleDash) && LooksLikeOption(token.Value))
            {
                return UnknownOption(token.Value);
            }
        }

        foreach (var word in parse.UnmatchedTokens)
        {
            return LooksLikeOption(word) ? UnknownOption(word) : $"unexpected argument '{word}'";
        }

        foreach (var error in parse.Errors)
        {
            return Describe(error);
        }

        return null;
    }

    private static string Describe(ParseError error)
    {
        switch (error.SymbolResult)
        {
            case OptionResult { Tokens.Count: 0, Implicit: false, Option.Arity.MinimumNumberOfValues: > 0 } option:
                return $"{option.Option.Name} needs a value: {CliHelp.ValueForm(option.Option)}";
            case ArgumentResult { Tokens.Count: 0 } argument when argument.Parent is not OptionResult:
                return $"<{argument.Argument.Name}> is missing";
            default:
                return error.Message;
        }
    }

    private static bool LooksLikeOption(string word) => word.Length > 1 && word[0] == '-';

    private static string UnknownOption(string word) =>
        $"unknown option '{word}' (a message that starts with '-' goes after '--')";

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Insert(0, c.Parent is null ? "shout" : c.Command.Name);
            }
        }

        return string.Join(' ', names);
    }

    private static int IndexOf(IReadOnlyList<Token> tokens, Func<Token, bool> match)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (match(tokens[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
