using System.Buffers;
using BenchmarkDotNet.Attributes;
using Shout.Protocols.Framing;

namespace Shout.Benchmarks;

/// <summary>
/// One read answered by each framer, from a pipe-like sequence into a reused buffer writer, against
/// copying the same sequence into the writer.
/// </summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private readonly LineFramer _line = new();
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private ReadOnlySequence<byte> _input;

    [Params(32, 16384)]
    public int Size { get; set; }

    [Params(false, true)]
    public bool TwoSegments { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var bytes = Inputs.Text(TextKind.Ascii, Size);
        _input = TwoSegments ? Segments.Split(bytes, bytes.Length / 2) : new ReadOnlySequence<byte>(bytes);
    }

    [Benchmark(Baseline = true)]
    public long Copy()
    {
        _output.ResetWrittenCount();
        foreach (var memory in _input)
        {
            memory.Span.CopyTo(_output.GetSpan(memory.Length));
            _output.Advance(memory.Length);
        }

        return _output.WrittenCount;
    }

    [Benchmark]
    public long Stream()
    {
        _output.ResetWrittenCount();
        return StreamFramer.Instance.Process(_input, _output, isCompleted: false).Consumed;
    }

    [Benchmark]
    public long Line()
    {
        _output.ResetWrittenCount();
        return _line.Process(_input, _output, isCompleted: false).Consumed;
    }
}

/// <summary>A two-segment sequence, as a pipe hands over data that crossed a block boundary.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int at)
    {
        var first = new Segments(bytes.AsMemory(0, at), 0);
        var second = new Segments(bytes.AsMemory(at), at);
        first.Next = second;
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }
}
