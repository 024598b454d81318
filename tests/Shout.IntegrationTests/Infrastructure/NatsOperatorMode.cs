using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NATS.NKeys;

namespace Shout.IntegrationTests.Infrastructure;

/// <summary>
/// A NATS decentralised-auth setup made in the test, as <c>nsc</c> would make it: an operator, one
/// account it signs, one user the account signs. <see cref="ServerConfig"/> is a nats-server
/// configuration that trusts the operator (memory resolver, the account preloaded);
/// <see cref="Creds"/> is the user's <c>.creds</c> file text (its JWT and nkey seed).
/// </summary>
internal sealed class NatsOperatorMode
{
    private NatsOperatorMode(string serverConfig, string creds)
    {
        ServerConfig = serverConfig;
        Creds = creds;
    }

    public string ServerConfig { get; }

    public string Creds { get; }

    public static NatsOperatorMode Create()
    {
        using var op = KeyPair.CreatePair(PrefixByte.Operator);
        using var account = KeyPair.CreatePair(PrefixByte.Account);
        using var user = KeyPair.CreatePair(PrefixByte.User);
        var unlimited = new Dictionary<string, object> { ["subs"] = -1, ["data"] = -1, ["payload"] = -1 };
        var operatorJwt = Jwt(op, op.GetPublicKey(), "operator", new Dictionary<string, object> { ["type"] = "operator", ["version"] = 2 });
        var accountJwt = Jwt(op, account.GetPublicKey(), "account", new Dictionary<string, object>
        {
            ["limits"] = new Dictionary<string, object>(unlimited) { ["imports"] = -1, ["exports"] = -1, ["wildcards"] = true, ["conn"] = -1, ["leaf"] = -1 },
            ["type"] = "account",
            ["version"] = 2,
        });
        var userJwt = Jwt(account, user.GetPublicKey(), "user", new Dictionary<string, object>(unlimited)
        {
            ["pub"] = new Dictionary<string, object>(),
            ["sub"] = new Dictionary<string, object>(),
            ["type"] = "user",
            ["version"] = 2,
        });
        var config = $"operator: {operatorJwt}\nresolver: MEMORY\nresolver_preload: {{\n  {account.GetPublicKey()}: {accountJwt}\n}}\n";
        var creds = $"-----BEGIN NATS USER JWT-----\n{userJwt}\n------END NATS USER JWT------\n\n"
            + $"-----BEGIN USER NKEY SEED-----\n{user.GetSeed()}\n------END USER NKEY SEED------\n";
        return new NatsOperatorMode(config, creds);
    }

    /// <summary>A JWT as NATS signs them: header alg <c>ed25519-nkey</c>, signed by <paramref name="issuer"/>'s key.</summary>
    private static string Jwt(KeyPair issuer, string subject, string name, Dictionary<string, object> nats)
    {
        var claims = new Dictionary<string, object>
        {
            ["jti"] = "",
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["iss"] = issuer.GetPublicKey(),
            ["name"] = name,
            ["sub"] = subject,
            ["nats"] = nats,
        };
        claims["jti"] = Base32(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(claims)));
        var signed = Base64Url("""{"typ":"JWT","alg":"ed25519-nkey"}"""u8.ToArray()) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = new byte[64];
        issuer.Sign(Encoding.ASCII.GetBytes(signed), signature);
        return signed + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Base32(byte[] bytes)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = new StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        return bits > 0 ? text.Append(Alphabet[(buffer << (5 - bits)) & 31]).ToString() : text.ToString();
    }
}
