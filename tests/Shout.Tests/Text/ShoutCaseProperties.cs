using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Shout.Text;

namespace Shout.Tests.Text;

public sealed class ShoutCaseProperties
{
    [Property(MaxTest = 500)]
    public Property Whole_input_matches_the_reference() =>
        Prop.ForAll(Utf8Samples.Mixed, input => ShoutCase.ToUpper(input).AsSpan().SequenceEqual(ReferenceUpper.Apply(input)));

    [Property(MaxTest = 500)]
    public Property Split_at_any_offsets_equals_whole_span_api() =>
        Prop.ForAll(Utf8Samples.MixedWithCuts, sample =>
        {
            var (input, cuts) = sample;
            return StreamThroughSpans(Utf8Samples.Split(input, cuts)).AsSpan().SequenceEqual(ShoutCase.ToUpper(input));
        });

    [Property(MaxTest = 500)]
    public Property Split_at_any_offsets_equals_whole_sequence_api() =>
        Prop.ForAll(Utf8Samples.MixedWithCuts, sample =>
        {
            var (input, cuts) = sample;
            return StreamThroughSequences(Utf8Samples.Split(input, cuts)).AsSpan().SequenceEqual(ShoutCase.ToUpper(input));
        });

    [Property(MaxTest = 500)]
    public Property Multi_segment_sequence_equals_whole() =>
        Prop.ForAll(Utf8Samples.MixedWithCuts, sample =>
        {
            var (input, cuts) = sample;
            var output = new ArrayBufferWriter<byte>();
            var sequence = Segments.Build(Utf8Samples.Split(input, cuts));
            var consumed = ShoutCaseSequence.ToUpper(sequence, output, isFinalBlock: true);
            return consumed == input.Length && output.WrittenSpan.SequenceEqual(ShoutCase.ToUpper(input));
        });

    [Property(MaxTest = 500)]
    public Property Uppercasing_twice_changes_nothing_more() =>
        Prop.ForAll(Utf8Samples.Mixed, input =>
        {
            var once = ShoutCase.ToUpper(input);
            return ShoutCase.ToUpper(once).AsSpan().SequenceEqual(once);
        });

    [Property(MaxTest = 300)]
    public Property Random_bytes_never_throw_and_fit_the_bound() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), input =>
            ShoutCase.ToUpper(input).Length <= ShoutCase.MaxOutputLength(input.Length));

    [Property(MaxTest = 300)]
    public Property Valid_text_length_changes_only_with_the_letters() =>
        Prop.ForAll(Utf8Samples.Valid, input =>
            System.Text.Encoding.UTF8.GetString(ShoutCase.ToUpper(input)).EnumerateRunes().Count()
            == System.Text.Encoding.UTF8.GetString(input).EnumerateRunes().Count());

    /// <summary>Feeds chunks the way a receive loop does: keep unconsumed bytes, prepend them to the next read.</summary>
    private static byte[] StreamThroughSpans(List<byte[]> chunks)
    {
        var output = new List<byte>();
        var carry = Array.Empty<byte>();
        for (var i = 0; i < chunks.Count; i++)
        {
            var input = carry.Concat(chunks[i]).ToArray();
            var dst = new byte[ShoutCase.MaxOutputLength(input.Length)];
            ShoutCase.ToUpper(input, dst, isFinalBlock: i == chunks.Count - 1, out var consumed, out var written);
            output.AddRange(dst[..written]);
            carry = input[consumed..];
        }

        return [.. output];
    }

    /// <summary>Like a PipeReader: unconsumed bytes stay as their own segment in front of the new read.</summary>
    private static byte[] StreamThroughSequences(List<byte[]> chunks)
    {
        var output = new ArrayBufferWriter<byte>();
        var retained = new List<byte[]>();
        for (var i = 0; i < chunks.Count; i++)
        {
            retained.Add(chunks[i]);
            var sequence = Segments.Build(retained);
            var consumed = ShoutCaseSequence.ToUpper(sequence, output, isFinalBlock: i == chunks.Count - 1);
            var rest = sequence.Slice(consumed);
            retained = [.. SplitSegments(rest)];
        }

        return output.WrittenSpan.ToArray();
    }

    private static IEnumerable<byte[]> SplitSegments(ReadOnlySequence<byte> sequence)
    {
        foreach (var memory in sequence)
        {
            yield return memory.ToArray();
        }
    }
}
