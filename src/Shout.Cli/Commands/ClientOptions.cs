using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Shout.Cli.Parsing;
using Shout.Client;
using Shout.Endpoints;

namespace Shout.Cli.Commands;

/// <summary>
/// The dialing options every client command shares (connect timeout, TLS verification, UDP
/// retries, WebSocket message type, <c>-u</c>, <c>-v</c>), added to a command as a group and read back as one <see cref="ShoutClientOptions"/>.
/// </summary>
internal sealed class ClientOptions
{
    private readonly Option<TimeSpan> _connectTimeout = CommonOptions.ConnectTimeout();

    private readonly Option<bool> _udp = new("--udp", "-u")
    {
        Description = "Use UDP, as nc -u: a bare HOST:PORT address means udp://HOST:PORT.",
    };

    private readonly Option<bool> _verbose = new("--verbose", "-v")
    {
        Description = "Say on stderr what is dialed, who answered and how many bytes went each way.",
    };

    private readonly Option<bool> _ipv4 = new("--ipv4", "-4")
    {
        Description = "Dial IPv4 only, as nc -4 and curl -4: a host name's IPv6 addresses are skipped.",
    };

    private readonly Option<bool> _ipv6 = new("--ipv6", "-6")
    {
        Description = "Dial IPv6 only, as nc -6 and curl -6: a host name's IPv4 addresses are skipped.",
    };

    private readonly Option<bool> _insecure = new("--insecure", "-k")
    {
        Description = "TLS and wss: accept any server certificate (self-signed servers on a trusted network only; prefer --pin).",
    };

    private readonly Option<CertificatePin?> _pin = new("--pin")
    {
        Description = "TLS and wss: accept only the certificate with this SHA-256 fingerprint (shout serve prints it), e.g. AB:CD:…",
        HelpName = "sha256",
        CustomParser = result =>
        {
            var text = CliValues.LastToken(result);
            if (CertificatePin.TryParse(text, out var pin, out var error))
            {
                return pin;
            }

            result.AddError($"--pin: {error}");
            return null;
        },
    };

    private readonly Option<TimeSpan> _handshakeTimeout = new("--tls-handshake-timeout")
    {
        Description = "TLS: give up the handshake after this long. Default 10s.",
        HelpName = "duration",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(10),
        CustomParser = CliValues.Duration,
    };

    private readonly Option<TimeSpan> _timeout = new("--timeout")
    {
        Description = "UDP: wait this long for each reply before sending the datagram again (and, at the end, for late replies). Default 1s.",
        HelpName = "duration",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(1),
        CustomParser = CliValues.Duration,
    };

    private readonly Option<bool> _binary = new("--binary")
    {
        Description = "WebSocket: send binary messages instead of text ones (text must be valid UTF-8).",
    };

    private readonly Option<int> _retries = new("--retries")
    {
        Description = "UDP: send a datagram again this many times when no reply comes. Default 2.",
        HelpName = "count",
        DefaultValueFactory = _ => 2,
        CustomParser = CliValues.Int(0),
    };

    public void AddTo(Command command, Option<ShoutEndpoint> address)
    {
        Validate(command, address);
        foreach (var option in (Option[])[_udp, _ipv4, _ipv6, _verbose, _connectTimeout, _insecure, _pin, _handshakeTimeout, _timeout, _retries, _binary])
        {
            command.Options.Add(option);
        }
    }

    public ShoutClientOptions Read(ParseResult parse) => new()
    {
        ConnectTimeout = parse.GetValue(_connectTimeout),
        Family = Family(parse),
        Insecure = parse.GetValue(_insecure),
        Pin = parse.GetValue(_pin),
        TlsHandshakeTimeout = parse.GetValue(_handshakeTimeout),
        ReplyTimeout = parse.GetValue(_timeout),
        Retries = parse.GetValue(_retries),
        BinaryMessages = parse.GetValue(_binary),
    };

    public bool Verbose(ParseResult parse) => parse.GetValue(_verbose);

    /// <summary>The family <c>-4</c> or <c>-6</c> chose; null for neither.</summary>
    public AddressFamily? Family(ParseResult parse) =>
        parse.GetValue(_ipv4) ? AddressFamily.InterNetwork : parse.GetValue(_ipv6) ? AddressFamily.InterNetworkV6 : null;

    /// <summary>
    /// Why <paramref name="endpoint"/> cannot be dialed with the <c>-4</c>/<c>-6</c> given (an IP literal of
    /// the other family), as a usage error; null when it can. Positional addresses are checked with it too.
    /// </summary>
    public string? FamilyProblem(ParseResult parse, ShoutEndpoint endpoint) =>
        FamilyProblem(parse.GetValue(_ipv4), parse.GetValue(_ipv6), endpoint);

    private static string? FamilyProblem(bool ipv4, bool ipv6, ShoutEndpoint endpoint)
    {
        if (ipv4 == ipv6 || endpoint.Transport == ShoutTransport.Unix)
        {
            return null;
        }

        var (flag, wanted) = ipv4 ? ("-4", AddressFamily.InterNetwork) : ("-6", AddressFamily.InterNetworkV6);
        return IPAddress.TryParse(endpoint.Host, out var literal) && literal.AddressFamily != wanted
            ? $"{flag}: {endpoint.Host} is an {AddressFamilies.Name(literal.AddressFamily)} address; give a host name or an {AddressFamilies.Name(wanted)} address, or drop {flag}"
            : null;
    }

    /// <summary>The address to dial: <paramref name="address"/>, made UDP by <c>-u</c>.</summary>
    public ShoutEndpoint Endpoint(ParseResult parse, Option<ShoutEndpoint> address) => Endpoint(parse, parse.GetValue(address)!);

    /// <summary><paramref name="endpoint"/> (from -a or the positional words), made UDP by <c>-u</c>.</summary>
    public ShoutEndpoint Endpoint(ParseResult parse, ShoutEndpoint endpoint) =>
        parse.GetValue(_udp) && endpoint.Transport == ShoutTransport.Tcp
            ? ShoutEndpoint.Parse($"udp://{(endpoint.Host.Contains(':', StringComparison.Ordinal) ? $"[{endpoint.Host}]" : endpoint.Host)}:{endpoint.Port}")
            : endpoint;

    /// <summary>True when --connect-timeout was on the command line (then -w does not replace it).</summary>
    public bool ConnectTimeoutGiven(ParseResult parse) => parse.GetResult(_connectTimeout) is { Implicit: false };

    /// <summary>True when --tls-handshake-timeout was on the command line (then -w does not replace it).</summary>
    public bool HandshakeTimeoutGiven(ParseResult parse) => parse.GetResult(_handshakeTimeout) is { Implicit: false };

    /// <summary>The address, or null when it is malformed (the parser reports that itself; reading it would throw).</summary>
    private static ShoutEndpoint? Parsed(System.CommandLine.Parsing.CommandResult result, Option<ShoutEndpoint> address)
    {
        try
        {
            return result.GetValue(address);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>What is wrong with the combination, if anything (checked before anything is sent).</summary>
    private void Validate(Command command, Option<ShoutEndpoint> address) => command.Validators.Add(result =>
    {
        if (result.GetResult(_udp) is { Implicit: false } && result.GetValue(_udp)
            && Parsed(result, address) is { Transport: not (ShoutTransport.Tcp or ShoutTransport.Udp) } other)
        {
            result.AddError($"--udp: the address {other} is not a HOST:PORT that UDP can dial");
        }

        var ipv4 = result.GetValue(_ipv4);
        var ipv6 = result.GetValue(_ipv6);
        // The default or a positional address is checked by the command's action (FamilyProblem), once it knows which it dials.
        if (ipv4 && ipv6)
        {
            result.AddError("-4 and -6 together: give one (or neither, to try every address)");
        }
        else if ((ipv4 || ipv6) && result.GetResult(address) is { Implicit: false } && Parsed(result, address) is { } dialed
            && FamilyProblem(ipv4, ipv6, dialed) is { } problem)
        {
            result.AddError(problem);
        }
    });
}
