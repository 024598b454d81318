using NATS.NKeys;
using Shout.Configuration;

namespace Shout.Rooms;

/// <summary>
/// Reads <c>--bus-nkey</c>: a file with a user nkey seed, as <c>nk -gen user</c> writes it. The NATS
/// client's own reader also wants the public key on a line of its own and, without it, retries the
/// connection for ever; the public key follows from the seed, so a seed alone is enough here.
/// </summary>
internal static class NKeySeedFile
{
    /// <summary>The seed and its public key; a one-line <see cref="IOException"/> or <see cref="InvalidDataException"/> when the file has none.</summary>
    public static (string Seed, string PublicKey) Read(string path)
    {
        var text = OptionFile.ReadAllText("--bus-nkey", path, SizeLimits.TextFile);
        var seed = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("SU", StringComparison.Ordinal))
            ?? throw new InvalidDataException($"--bus-nkey: {path} holds no user nkey seed (a line starting with SU, as `nk -gen user` writes)");
        try
        {
            using var pair = KeyPair.FromSeed(seed);
            return (seed, pair.GetPublicKey());
        }
        catch (Exception e) when (e is NKeysException or FormatException or ArgumentException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"--bus-nkey: {path} holds no valid user nkey seed", e);
        }
    }
}
