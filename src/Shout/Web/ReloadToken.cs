using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Shout.Web;

/// <summary>
/// The secret <c>POST /reload</c> must carry in a header: <c>Authorization: Bearer TOKEN</c> or
/// <c>X-Shout-Reload-Token: TOKEN</c>. A browser sends neither on a form post or a no-cors fetch, and
/// a cross-site script that sets one must first pass a CORS preflight, which this server never
/// grants; so another site's page cannot reload the server.
/// </summary>
internal static class ReloadToken
{
    /// <summary>The header beside <c>Authorization</c> that carries the token.</summary>
    public const string Header = "X-Shout-Reload-Token";

    /// <summary>Fewest characters a token may have: guessing one is out of reach even without the rate limit.</summary>
    public const int MinLength = 16;

    // Larger than any sane token; a device or a huge file is refused, not read.
    private const int MaxFileBytes = 4096;

    /// <summary>Null when <paramref name="token"/> is usable; otherwise why not, in one line.</summary>
    public static string? Problem(string token) =>
        token.Length < MinLength ? $"the reload token is too short ({token.Length} characters; at least {MinLength})"
        : token.Any(c => c <= ' ' || c == '\u007F') ? "the reload token may not contain spaces or control characters"
        : null;

    /// <summary>
    /// The token in the first line of <paramref name="path"/>, trimmed; a missing file, one larger than
    /// 4 KiB (a device such as <c>/dev/zero</c> too) or a bad token is a one-line <see cref="FormatException"/>.
    /// </summary>
    public static string Read(string path)
    {
        string text;
        try
        {
            // Regular files only, size-capped, read with a timeout: a FIFO or a device never blocks the start or a reload.
            text = Configuration.OptionFile.ReadAllText("--reload-token-file", path, MaxFileBytes);
        }
        catch (IOException e)
        {
            throw new FormatException(e.Message, e);
        }

        var token = text.Split('\n', 2)[0].Trim();
        return Problem(token) is { } problem ? throw new FormatException($"--reload-token-file {path}: {problem}") : token;
    }

    /// <summary>What the request carries: no token, a wrong one, or the right one. Compared in constant time.</summary>
    public static ReloadCredential Check(HttpRequest request, string expected)
    {
        string? given = null;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            given = authorization["Bearer ".Length..].Trim();
        }
        else if (request.Headers[Header].ToString() is { Length: > 0 } header)
        {
            given = header.Trim();
        }

        if (given is null)
        {
            return ReloadCredential.Missing;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)))
            ? ReloadCredential.Right
            : ReloadCredential.Wrong;
    }
}

/// <summary>What a <c>POST /reload</c> carried.</summary>
internal enum ReloadCredential
{
    Missing,
    Wrong,
    Right,
}
