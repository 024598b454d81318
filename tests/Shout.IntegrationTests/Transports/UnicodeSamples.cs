using System.Text;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// The text samples of the unit tests (tests/Shout.Tests/Text: ShoutCaseTests' table with its
/// expected answers, Utf8Samples' tricky scalars and invalid bytes), for the transports to carry.
/// </summary>
internal static class UnicodeSamples
{
    /// <summary>Input and the answer the tutorial's Go server gives (Unicode simple uppercase, ı and ſ as Go).</summary>
    public static IReadOnlyList<(string Input, string Expected)> Table { get; } =
    [
        ("hello world", "HELLO WORLD"),
        ("Grüße, straße", "GRÜßE, STRAßE"),
        ("ı", "I"),
        ("ȿ", "\u2C7E"),
        ("ɐ", "\u2C6F"),
        ("ǅ", "Ǆ"),
        ("µ", "Μ"),
        ("ſ", "S"),
        ("𐐨 deseret", "𐐀 DESERET"),
        ("日本語 ok", "日本語 OK"),
        ("aȿ😀ı ɐ hello ß", "AⱾ😀I Ɐ HELLO ß"),
    ];

    /// <summary>Every UTF-8 length and the growing letters: a, z, ı, ȿ, ɐ, ß, ǅ, µ, ſ, 𐐨, 😀, U+07FF, U+0800, U+FFFF, U+10FFFF.</summary>
    public static IReadOnlyList<string> Tricky { get; } =
        [.. new[] { 'a', 'z', 'ı', 'ȿ', 'ɐ', 'ß', 'ǅ', 'µ', 'ſ', 0x10428, 0x1F600, 0x7FF, 0x800, 0xFFFF, 0x10FFFF }.Select(c => new Rune(c).ToString())];

    /// <summary>Bytes that are not UTF-8: a bad continuation, FF, an overlong, a surrogate, above U+10FFFF, a cut character, stray bytes.</summary>
    public static IReadOnlyList<byte[]> Invalid { get; } =
    [
        [0xC3, 0x28],
        [0xFF],
        [0xC0, 0xAF],
        [0xED, 0xA0, 0x80],
        [0xF4, 0x90, 0x80, 0x80],
        [0xE2, 0x82],
        [(byte)'a', 0x80, (byte)'b', 0xBF, 0xC1, 0xE0, 0xF0, 0xF5, (byte)'z'],
    ];
}
