using System.Buffers;
using System.Net;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FsCheck;
using Shout.Transports.ProxyProtocol;

namespace Shout.Tests.Transports.ProxyProtocol;

/// <summary>
/// Fuzzing the parser: random bytes, valid headers mutated byte by byte, and every split of the
/// input. It must never throw, never claim bytes past the header's declared length, and give the
/// same answer however the bytes are segmented.
/// </summary>
public sealed class ProxyProtocolParserProperties
{
    private static readonly Gen<IPEndPoint> EndPoint4 =
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i), 4)
        from port in Gen.Choose(0, 65535)
        select new IPEndPoint(new IPAddress(bytes), port);

    private static readonly Gen<IPEndPoint> EndPoint6 =
        from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i), 16)
        from port in Gen.Choose(0, 65535)
        select new IPEndPoint(new IPAddress(bytes), port);

    private static readonly Gen<byte[]> Tlvs =
        Gen.ListOf(from type in Gen.Choose(0, 255)
                   from value in Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))
                   select ProxyHeaderWriter.Tlv((byte)type, value))
            .Select(list => list.SelectMany(t => t).ToArray());

    /// <summary>A valid header of either version and family, with its expected parse.</summary>
    private static readonly Gen<(byte[] Bytes, ProxyHeader Expected)> ValidHeader =
        from v6 in Gen.Elements(false, true)
        from source in v6 ? EndPoint6 : EndPoint4
        from destination in v6 ? EndPoint6 : EndPoint4
        from version in Gen.Elements(1, 2)
        from tlvs in Tlvs
        select version == 1
            ? (ProxyHeaderWriter.V1(source, destination), new ProxyHeader(1, source, destination))
            : (ProxyHeaderWriter.V2(source, destination, tlvs), new ProxyHeader(2, source, destination));

    private static readonly Gen<byte[]> Tail = Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i));

    private static ProxyParseResult Parse(byte[] bytes) => ProxyProtocolParser.Parse(new ReadOnlySequence<byte>(bytes));

    [Property(MaxTest = 1000)]
    public Property Valid_headers_round_trip_and_leave_the_tail_alone() =>
        Prop.ForAll((from h in ValidHeader from tail in Tail select (h.Bytes, h.Expected, tail)).ToArbitrary(), sample =>
        {
            var result = Parse([.. sample.Bytes, .. sample.tail]);
            return result.Status == ProxyParseStatus.Done && result.Consumed == sample.Bytes.Length && result.Header == sample.Expected;
        });

    [Property(MaxTest = 300)]
    public Property Every_strict_prefix_of_a_valid_header_needs_more() =>
        Prop.ForAll(ValidHeader.ToArbitrary(), sample =>
            Enumerable.Range(0, sample.Bytes.Length).All(n => Parse(sample.Bytes[..n]).Status == ProxyParseStatus.NeedMoreData));

    [Property(MaxTest = 1000)]
    public Property Random_bytes_never_throw_and_never_overrun() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), Holds);

    [Property(MaxTest = 2000)]
    public Property Mutated_headers_never_throw_and_never_overrun() =>
        Prop.ForAll((from h in ValidHeader
                     from tail in Tail
                     from flips in Gen.ListOf(from at in Gen.Choose(0, 1000) from value in Gen.Choose(0, 255) select (at, (byte)value))
                     select Mutate([.. h.Bytes, .. tail], flips)).ToArbitrary(), Holds);

    [Property(MaxTest = 500)]
    public Property Any_segmentation_gives_the_same_answer() =>
        Prop.ForAll((from h in ValidHeader
                     from tail in Tail
                     from flips in Gen.ListOf(from at in Gen.Choose(0, 200) from value in Gen.Choose(0, 255) select (at, (byte)value))
                     let bytes = Mutate([.. h.Bytes, .. tail], flips)
                     from cuts in Gen.ListOf(Gen.Choose(0, bytes.Length))
                     select (bytes, cuts.Distinct().Order().ToArray())).ToArbitrary(), sample =>
        {
            var whole = Parse(sample.bytes);
            var split = ProxyProtocolParser.Parse(Segments.Build(Text.Utf8Samples.Split(sample.bytes, sample.Item2)));
            return whole == split;
        });

    /// <summary>Done never claims more than was given nor more than the header declares; the tail never changes a Done.</summary>
    private static bool Holds(byte[] bytes)
    {
        var result = Parse(bytes);
        return result.Status switch
        {
            ProxyParseStatus.Done => result.Consumed <= bytes.Length && result.Consumed <= DeclaredLimit(bytes)
                && Parse(bytes[..(int)result.Consumed]) == result
                && Parse([.. bytes[..(int)result.Consumed], 0xFF, 0x00]) == result,
            ProxyParseStatus.Invalid => result.Consumed == 0 && result.Error is not null,
            _ => result.Consumed == 0,
        };
    }

    private static long DeclaredLimit(byte[] bytes) =>
        bytes.Length >= 16 && bytes[0] == '\r' ? 16 + ((bytes[14] << 8) | bytes[15]) : ProxyProtocolParser.MaxV1Length;

    private static byte[] Mutate(byte[] bytes, IEnumerable<(int At, byte Value)> flips)
    {
        var copy = (byte[])bytes.Clone();
        foreach (var (at, value) in flips.Where(f => copy.Length > 0))
        {
            copy[at % copy.Length] = value;
        }

        return copy;
    }
}
