using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Shout.Protocols;

/// <summary>
/// The token that proves a UDP source receives at its address (room mode's join): an HMAC of the
/// address and port under a key made at start, for a two-minute window of the server's clock, cut
/// to 8 characters of lowercase base32 (40 bits) so a person can copy it. Nothing is stored per
/// source, as with a DTLS cookie (RFC 6347 §4.2.1) or a QUIC retry token: a source that never
/// answers costs no memory beyond its session. A token is accepted in its window and the next, so
/// it lives two to four minutes; a spoofer off the path cannot see it. Thread-safe.
/// </summary>
internal sealed class UdpAddressToken(TimeProvider clock)
{
    /// <summary>Characters in a token.</summary>
    public const int Length = 8;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private const long WindowSeconds = 120;

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    /// <summary>The token of <paramref name="source"/> now.</summary>
    public string Issue(SocketAddress source)
    {
        Span<char> token = stackalloc char[Length];
        Compute(source, Window(), token);
        return new string(token);
    }

    /// <summary>True when <paramref name="token"/> (any case) is the source's token of this window or the one before.</summary>
    public bool IsValid(SocketAddress source, ReadOnlySpan<char> token)
    {
        if (token.Length != Length)
        {
            return false;
        }

        Span<char> given = stackalloc char[Length];
        token.ToLowerInvariant(given);
        Span<char> expected = stackalloc char[Length];
        var window = Window();
        for (var w = window; w >= window - 1; w--)
        {
            Compute(source, w, expected);
            if (CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(given),
                    MemoryMarshal.AsBytes((ReadOnlySpan<char>)expected)))
            {
                return true;
            }
        }

        return false;
    }

    private long Window() => clock.GetUtcNow().ToUnixTimeSeconds() / WindowSeconds;

    private void Compute(SocketAddress source, long window, Span<char> token)
    {
        Span<byte> input = stackalloc byte[8 + 2 + 16];
        BinaryPrimitives.WriteInt64LittleEndian(input, window);
        var length = 8 + Address(source, input[8..]);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, input[..length], mac);

        // 40 bits, 5 per character.
        var bits = (ulong)mac[0] << 32 | (ulong)mac[1] << 24 | (ulong)mac[2] << 16 | (ulong)mac[3] << 8 | mac[4];
        for (var i = Length - 1; i >= 0; i--)
        {
            token[i] = Alphabet[(int)(bits & 31)];
            bits >>= 5;
        }
    }

    /// <summary>
    /// The port and address of a sockaddr (not the IPv6 flow label or scope, which a peer may vary).
    /// sockaddr_in: family (2), port (2), address (4); sockaddr_in6: family, port, flow info (4), address (16).
    /// </summary>
    private static int Address(SocketAddress source, Span<byte> into)
    {
        var bytes = source.Buffer.Span;
        bytes.Slice(2, 2).CopyTo(into);
        if (source.Family == AddressFamily.InterNetworkV6)
        {
            bytes.Slice(8, 16).CopyTo(into[2..]);
            return 18;
        }

        bytes.Slice(4, 4).CopyTo(into[2..]);
        return 6;
    }
}
