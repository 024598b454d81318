using System.CommandLine;
using Shout.Cli.Parsing;
using Shout.Endpoints;

namespace Shout.Cli.Commands;

/// <summary>Options shared by the client commands, and parsing helpers.</summary>
internal static class CommonOptions
{
    public const string AddressVariable = "SHOUT_ADDRESS";
    public const string DefaultAddress = "127.0.0.1:8080";

    public static Option<ShoutEndpoint> Address() => new("--address", "-a")
    {
        Description = $"The server: tcp://HOST:PORT, tls://HOST:PORT, udp://HOST:PORT, unix:///PATH, ws://HOST:PORT/PATH, wss://HOST:PORT/PATH, or a bare HOST:PORT (TCP); [::1] for IPv6. Default {DefaultAddress}, or ${AddressVariable}.",
        DefaultValueFactory = result =>
        {
            var env = Environment.GetEnvironmentVariable(AddressVariable);
            if (ShoutEndpoint.TryParse(env is { Length: > 0 } ? env : DefaultAddress, out var endpoint, out var error))
            {
                return endpoint!;
            }

            // A bad $SHOUT_ADDRESS is a usage error like a bad --address, not a crash.
            result.AddError($"${AddressVariable}: {error}");
            return null!;
        },
        HelpName = "address",
        CustomParser = result => ParseEndpoint(result),
    };

    public static Option<TimeSpan> ConnectTimeout() => new("--connect-timeout")
    {
        Description = "Give up connecting after this long (e.g. 500ms, 5s). Default 5s.",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(5),
        HelpName = "duration",
        CustomParser = CliValues.Duration,
    };

    public static ShoutEndpoint ParseEndpoint(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (ShoutEndpoint.TryParse(text, out var endpoint, out var error))
        {
            return endpoint!;
        }

        result.AddError($"{CliValues.NameOf(result)}: {error}");
        return null!;
    }

    /// <summary>Every token an endpoint (repeatable options); the first wrong one is the error.</summary>
    public static ShoutEndpoint[] ParseEndpoints(System.CommandLine.Parsing.ArgumentResult result)
    {
        var endpoints = new List<ShoutEndpoint>();
        foreach (var token in result.Tokens)
        {
            if (!ShoutEndpoint.TryParse(token.Value, out var endpoint, out var error))
            {
                result.AddError($"{CliValues.NameOf(result)}: {error}");
                return [];
            }

            endpoints.Add(endpoint!);
        }

        return [.. endpoints];
    }
}
