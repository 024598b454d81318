using System.Buffers;
using BenchmarkDotNet.Attributes;
using Shout.Rooms;

namespace Shout.Benchmarks;

/// <summary>
/// The room's copy of one line (<c>NICK: TEXT\n</c>) with its controls escaped
/// (<see cref="RoomLines.WriteSaid"/>), against copying the name and the line as the room did before.
/// </summary>
[MemoryDiagnoser]
public class RoomSaidBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly byte[] _prefix = RoomLines.Prefix("alice");
    private byte[] _line = [];

    [Params(64, 4096)]
    public int Size { get; set; }

    [Params(TextKind.Ascii, TextKind.Mixed, TextKind.NonAscii)]
    public TextKind Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var text = Inputs.Text(Kind, Size);
        text.AsSpan().Replace((byte)'\n', (byte)' ');
        _line = [.. text, (byte)'\n'];
    }

    [Benchmark(Baseline = true)]
    public int Copy()
    {
        _output.ResetWrittenCount();
        _output.Write(_prefix);
        _output.Write(_line);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int Escaped()
    {
        _output.ResetWrittenCount();
        RoomLines.WriteSaid(_output, _prefix, _line);
        return _output.WrittenCount;
    }
}
