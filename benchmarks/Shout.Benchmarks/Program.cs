using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Shout.Benchmarks -- --filter '*'   (see docs/benchmarks.md)
BenchmarkSwitcher.FromAssembly(typeof(Shout.Benchmarks.Inputs).Assembly).Run(args);
