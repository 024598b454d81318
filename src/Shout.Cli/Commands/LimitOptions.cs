using System.CommandLine;
using System.CommandLine.Parsing;
using Shout.Server;
using Shout.Server.Admission;

namespace Shout.Cli.Commands;

/// <summary><c>serve</c>'s limits, timeouts and access lists ("Limits and safety" in the README).</summary>
internal sealed class LimitOptions
{
    private static readonly ShoutServerOptions Defaults = new();

    private readonly Option<int> _maxConnections = Count("--max-connections",
        $"Most connections open at once over every endpoint; the next is told 'ERR server busy' and closed. 0: no limit. Default {Defaults.MaxConnections}.",
        Defaults.MaxConnections);

    private readonly Option<int> _maxPerIp = Count("--max-connections-per-ip",
        "Most connections open at once from one client address; the next is told why and closed. Default 0: no limit.",
        Defaults.MaxConnectionsPerAddress);

    private readonly Option<TimeSpan> _idle = Duration("--idle-timeout",
        "Close a connection from which nothing arrives for this long (e.g. 30s, 5m). 0: never. Default 5m.", Defaults.IdleTimeout);

    private readonly Option<TimeSpan> _write = Duration("--write-timeout",
        "Close a connection whose client stops reading its replies for this long. 0: never. Default 30s.", Defaults.WriteTimeout);

    private readonly Option<TimeSpan> _line = Duration("--line-timeout",
        "Line mode: close a connection whose line is not finished this long after its first byte. 0: never. Default 1m.", Defaults.LineTimeout);

    private readonly Option<string[]> _allow = new("--allow")
    {
        Description = "Only these client addresses may connect: a CIDR block (10.0.0.0/8, 2001:db8::/32) or one address. Repeatable.",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<string[]> _deny = new("--deny")
    {
        Description = "These client addresses may not connect (deny wins over allow). Repeatable.",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<FileInfo> _accessFile = new("--access-file")
    {
        Description = "Read more rules from a file: one 'allow CIDR' or 'deny CIDR' per line, '#' comments.",
    };

    public IEnumerable<Option> All => [_maxConnections, _maxPerIp, _idle, _write, _line, _allow, _deny, _accessFile];

    /// <summary>Copies the parsed values into <paramref name="options"/>; a bad rule throws <see cref="FormatException"/>.</summary>
    public void Apply(ParseResult parse, ShoutServerOptions options)
    {
        options.MaxConnections = parse.GetValue(_maxConnections);
        options.MaxConnectionsPerAddress = parse.GetValue(_maxPerIp);
        options.IdleTimeout = parse.GetValue(_idle);
        options.WriteTimeout = parse.GetValue(_write);
        options.LineTimeout = parse.GetValue(_line);
        var access = AccessList.Create(parse.GetValue(_allow) ?? [], parse.GetValue(_deny) ?? []);
        if (parse.GetValue(_accessFile) is { } file)
        {
            access = access.Load(file.FullName);
        }

        options.Access = access;
    }

    private static Option<int> Count(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError($"{name} must be 0 (no limit) or more");
            }
        });
        return option;
    }

    private static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = CommonOptions.ParseDuration,
    };
}
