using System.Buffers;
using BenchmarkDotNet.Attributes;
using Shout.Text;

namespace Shout.Benchmarks;

/// <summary>The uppercaser against a plain copy of the same bytes (the least any server must do).</summary>
[MemoryDiagnoser]
public class UppercaseBenchmarks
{
    private byte[] _input = [];
    private byte[] _output = [];

    [Params(TextKind.Ascii, TextKind.Mixed, TextKind.NonAscii)]
    public TextKind Kind { get; set; }

    [Params(32, 16384)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = Inputs.Text(Kind, Size);
        _output = new byte[ShoutCase.MaxOutputLength(_input.Length)];
    }

    [Benchmark(Baseline = true)]
    public int Copy()
    {
        _input.CopyTo(_output, 0);
        return _input.Length;
    }

    [Benchmark]
    public int ToUpper()
    {
        var status = ShoutCase.ToUpper(_input, _output, isFinalBlock: false, out _, out var written);
        return status == OperationStatus.Done ? written : -1;
    }
}
