using System.CommandLine;
using Shout.Server;

namespace Shout.Cli.Commands;

/// <summary><c>shout serve</c>'s transport options: the TLS certificate and handshake, Unix socket permissions.</summary>
internal sealed class ServeTransportOptions
{
    public const string PasswordVariable = "SHOUT_TLS_PASSWORD";

    private readonly Option<FileInfo?> _certificate = new("--tls-cert")
    {
        Description = "TLS certificate: a PKCS#12 file (.pfx/.p12), or PEM (with its key inside or in --tls-key). "
            + $"Password, if any, from ${PasswordVariable}. Default: a self-signed certificate made at start; its SHA-256 fingerprint is printed.",
    };

    private readonly Option<FileInfo?> _key = new("--tls-key")
    {
        Description = "TLS: the PEM private key of a PEM --tls-cert.",
    };

    private readonly Option<TimeSpan> _handshakeTimeout = new("--tls-handshake-timeout")
    {
        Description = "TLS: close a client that has not finished the handshake after this long. Default 10s.",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(10),
        CustomParser = CommonOptions.ParseDuration,
    };

    private readonly Option<UnixFileMode?> _unixMode = new("--unix-mode")
    {
        Description = "Permissions of unix:// socket files, in octal (clients need write permission). Default 660.",
        HelpName = "octal",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            try
            {
                var mode = Convert.ToInt32(text, 8);
                if (mode is >= 0 and <= 0x1FF)
                {
                    return (UnixFileMode)mode;
                }
            }
            catch (FormatException)
            {
            }
            catch (ArgumentException)
            {
            }

            result.AddError($"'{text}' is not an octal file mode from 000 to 777, e.g. 660");
            return null;
        },
    };

    public void AddTo(Command command)
    {
        foreach (var option in (Option[])[_certificate, _key, _handshakeTimeout, _unixMode])
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(_key) is not null && result.GetValue(_certificate) is null)
            {
                result.AddError("--tls-key needs --tls-cert");
            }
        });
    }

    public void Apply(ParseResult parse, ShoutServerOptions options)
    {
        options.Tls.CertificatePath = parse.GetValue(_certificate)?.FullName;
        options.Tls.KeyPath = parse.GetValue(_key)?.FullName;
        options.Tls.Password = Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } password ? password : null;
        options.Tls.HandshakeTimeout = parse.GetValue(_handshakeTimeout);
        options.UnixSocketMode = parse.GetValue(_unixMode) ?? options.UnixSocketMode;
    }

}
