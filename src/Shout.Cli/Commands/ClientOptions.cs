using System.CommandLine;
using Shout.Client;

namespace Shout.Cli.Commands;

/// <summary>
/// The dialing options every client command shares (connect timeout, TLS verification, UDP
/// retries, WebSocket message type), added to a command as a group and read back as one <see cref="ShoutClientOptions"/>.
/// </summary>
internal sealed class ClientOptions
{
    private readonly Option<TimeSpan> _connectTimeout = CommonOptions.ConnectTimeout();

    private readonly Option<bool> _insecure = new("--insecure", "-k")
    {
        Description = "TLS and wss: accept any server certificate (self-signed servers on a trusted network only; prefer --pin).",
    };

    private readonly Option<CertificatePin?> _pin = new("--pin")
    {
        Description = "TLS and wss: accept only the certificate with this SHA-256 fingerprint (shout serve prints it), e.g. AB:CD:…",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (CertificatePin.TryParse(text, out var pin, out var error))
            {
                return pin;
            }

            result.AddError(error);
            return null;
        },
    };

    private readonly Option<TimeSpan> _handshakeTimeout = new("--tls-handshake-timeout")
    {
        Description = "TLS: give up the handshake after this long. Default 10s.",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(10),
        CustomParser = CommonOptions.ParseDuration,
    };

    private readonly Option<TimeSpan> _timeout = new("--timeout")
    {
        Description = "UDP: wait this long for each reply before sending the datagram again (and, at the end, for late replies). Default 1s.",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(1),
        CustomParser = CommonOptions.ParseDuration,
    };

    private readonly Option<bool> _binary = new("--binary")
    {
        Description = "WebSocket: send binary messages instead of text ones (text must be valid UTF-8).",
    };

    private readonly Option<int> _retries = new("--retries")
    {
        Description = "UDP: send a datagram again this many times when no reply comes. Default 2.",
        DefaultValueFactory = _ => 2,
    };

    public ClientOptions() => _retries.Validators.Add(r =>
    {
        if (r.GetValueOrDefault<int>() < 0)
        {
            r.AddError("--retries must be 0 or more");
        }
    });

    public void AddTo(Command command)
    {
        foreach (var option in (Option[])[_connectTimeout, _insecure, _pin, _handshakeTimeout, _timeout, _retries, _binary])
        {
            command.Options.Add(option);
        }
    }

    public ShoutClientOptions Read(ParseResult parse) => new()
    {
        ConnectTimeout = parse.GetValue(_connectTimeout),
        Insecure = parse.GetValue(_insecure),
        Pin = parse.GetValue(_pin),
        TlsHandshakeTimeout = parse.GetValue(_handshakeTimeout),
        ReplyTimeout = parse.GetValue(_timeout),
        Retries = parse.GetValue(_retries),
        BinaryMessages = parse.GetValue(_binary),
    };
}
