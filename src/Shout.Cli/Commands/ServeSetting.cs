using System.CommandLine.Parsing;
using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Shout.Endpoints;
using Shout.Hosting;
using Shout.Web;

namespace Shout.Cli.Commands;

/// <summary>What <c>shout serve</c> runs with: the server's options and the CLI's own switches.</summary>
internal sealed class ServeRun
{
    public ServeRun() =>
        // The library serves no web page unless asked; the command serves it by default.
        Options.Web.Address = ShoutWebOptions.ParseAddress(ShoutWebOptions.DefaultAddress);

    public ShoutServerOptions Options { get; } = new();

    public bool Verbose { get; set; }

    public ServeLogFormat LogFormat { get; set; }

    /// <summary>Access rules, gathered from every source and compiled once all are read.</summary>
    public List<string> Allow { get; } = [];

    public List<string> Deny { get; } = [];

    public string? AccessFile { get; set; }

    /// <summary>Where the reload token is read from (<see cref="ReloadTokenSource"/>).</summary>
    public string? ReloadTokenFile { get; set; }

    /// <summary>Toxics in front of the stream listeners (<see cref="ServeToxics"/>); none by default.</summary>
    public List<Shout.Toxics.ToxicSpec> Toxics { get; } = [];
}

/// <summary>How <c>serve</c> writes its log: lines for people, or one JSON object per line for machines.</summary>
internal enum ServeLogFormat
{
    Text,
    Json,
}

/// <summary>
/// One <c>serve</c> setting, declared once: its configuration key, its flag and its parser. The same
/// text parser reads the flag, the <c>SHOUT_</c> environment variable and the configuration file, so
/// every source accepts exactly the same values. Precedence: flag, then environment, then file, then
/// the default in <see cref="ShoutServerOptions"/>.
/// </summary>
internal abstract class ServeSetting(string key)
{
    /// <summary>The key in the configuration file's <c>Shout</c> section, e.g. <c>MaxLine</c>.</summary>
    public string Key { get; } = key;

    /// <summary>The flag, e.g. <c>--max-line</c>, derived from the key.</summary>
    public string Flag => "--" + Words("-").ToLowerInvariant();

    /// <summary>The environment variable, e.g. <c>SHOUT_MAX_LINE</c>, derived from the key.</summary>
    public string EnvironmentVariable => "SHOUT_" + Words("_").ToUpperInvariant();

    public abstract Option Option { get; }

    /// <summary>Applies the winning source's value, or adds an error naming the source.</summary>
    public abstract void Apply(ParseResult parse, IConfiguration environment, IConfiguration file, ServeRun run, List<string> errors);

    private string Words(string separator) =>
        string.Concat(Key.Select((c, i) => i > 0 && char.IsUpper(c) ? separator + c : c.ToString()));
}

/// <summary>A setting with a value of type <typeparamref name="T"/>; lists accept commas or repeats.</summary>
internal sealed class ServeSetting<T> : ServeSetting
{
    private readonly Func<string, (T? Value, string? Error)> _parse;
    private readonly Action<ServeRun, IReadOnlyList<T>> _apply;
    private readonly Option _option;
    private readonly Func<ParseResult, T[]> _readFlag;

    // What separates a list's values in one environment variable or config string (a toxic's own attributes use commas).
    private readonly char _listSeparator;

    public ServeSetting(string key, string description, Func<string, (T? Value, string? Error)> parse,
        Action<ServeRun, IReadOnlyList<T>> apply, bool repeatable = false, bool isSwitch = false, string[]? aliases = null,
        string? helpName = null, char listSeparator = ',')
        : base(key)
    {
        _parse = parse;
        _listSeparator = listSeparator;
        _apply = apply;
        description += $" [env {EnvironmentVariable}, config Shout:{Key}]";
        if (isSwitch)
        {
            // A plain flag (--verbose); System.CommandLine still accepts "--verbose false".
            var flag = new Option<bool>(Flag, aliases ?? []) { Description = description };
            _option = flag;
            _readFlag = p => [(T)(object)p.GetValue(flag)];
        }
        else
        {
            var values = new Option<T[]>(Flag, aliases ?? [])
            {
                Description = description,
                Arity = repeatable ? ArgumentArity.OneOrMore : ArgumentArity.ExactlyOne,
                AllowMultipleArgumentsPerToken = false,
                CustomParser = ParseTokens,
                HelpName = helpName ?? DefaultHelpName(),
            };
            _option = values;
            _readFlag = p => p.GetValue(values) ?? [];
        }

        Repeatable = repeatable;
    }

    public override Option Option => _option;

    /// <summary>The value's form for help: what to write, never the .NET type.</summary>
    private static string DefaultHelpName() =>
        typeof(T) == typeof(TimeSpan) ? "duration"
        : typeof(T) == typeof(int) ? "number"
        : typeof(T) == typeof(bool) ? "true|false"
        : typeof(T) == typeof(ShoutEndpoint) ? "endpoint"
        : typeof(T) == typeof(System.Net.IPNetwork) ? "cidr"
        : typeof(T) == typeof(UnixFileMode) ? "octal"
        : typeof(T).IsEnum ? string.Join('|', Enum.GetNames(typeof(T)).Select(n => n.ToLowerInvariant()))
        : "value";

    private bool Repeatable { get; }

    public override void Apply(ParseResult parse, IConfiguration environment, IConfiguration file, ServeRun run, List<string> errors)
    {
        if (parse.GetResult(_option) is { Implicit: false })
        {
            _apply(run, _readFlag(parse));
            return;
        }

        // The environment source is read with its SHOUT_ prefix removed.
        foreach (var (source, key) in new[] { (environment, EnvironmentVariable["SHOUT_".Length..]), (file, Key) })
        {
            var texts = Texts(source.GetSection(key));
            if (texts.Count == 0)
            {
                continue;
            }

            var values = new List<T>();
            foreach (var text in texts)
            {
                var (value, error) = _parse(text);
                if (error is not null)
                {
                    errors.Add($"{(ReferenceEquals(source, environment) ? EnvironmentVariable : "config Shout:" + Key)}: {error}");
                    return;
                }

                values.Add(value!);
            }

            _apply(run, values);
            return;
        }
    }

    /// <summary>A scalar value (split at commas for a list) or an array's children.</summary>
    private List<string> Texts(IConfigurationSection section)
    {
        if (section.Value is { } value)
        {
            return Repeatable
                ? [.. value.Split(_listSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
                : [value];
        }

        return [.. section.GetChildren().Select(c => c.Value).OfType<string>()];
    }

    private T[] ParseTokens(ArgumentResult result)
    {
        var values = new List<T>();
        foreach (var token in result.Tokens)
        {
            var (value, error) = _parse(token.Value);
            if (error is not null)
            {
                result.AddError($"{Flag}: {error}");
                return [];
            }

            values.Add(value!);
        }

        return [.. values];
    }
}
