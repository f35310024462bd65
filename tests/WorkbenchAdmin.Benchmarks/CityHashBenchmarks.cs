using BenchmarkDotNet.Attributes;
using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>ns per hash for user-name sized inputs, and throughput on 1 MiB (target at least 10 GB/s).</summary>
public class CityHashBenchmarks
{
    private byte[] _data = null!;

    [Params(5, 16, 32, 64, 1 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Bytes];
        new Random(7).NextBytes(_data);
    }

    [Benchmark]
    public ulong CityHash64() => CityHash.CityHash64(_data);
}
