using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// CityHash64 against google/cityhash v1.1 built with g++ -O3 -march=native (the baseline, same run; needs CITYHASH_SRC,
/// see <see cref="NativeCityHash"/>). Target: at least the native throughput on 1 MiB. Below 64 bytes the native side
/// includes a P/Invoke transition (about 1 ns): <see cref="UserNameHashBenchmarks"/> compares short inputs in loops.
/// </summary>
public class CityHashBenchmarks
{
    private byte[] _data = null!;

    [Params(5, 16, 32, 64, 1 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        NativeCityHash.Load();
        _data = new byte[Bytes];
        new Random(7).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public ulong Native() => NativeCityHash.Hash(_data);

    [Benchmark]
    public ulong CityHash64() => CityHash.CityHash64(_data);
}

/// <summary>
/// Hashing a 5–7 byte user name from its string (UTF-8 conversion included), against native CityHash64 on the
/// name's bytes (the baseline, same run). Both sides hash the same names in a loop of their own, so no call
/// transition is counted. Target: at most 1.2× native.
/// </summary>
public unsafe class UserNameHashBenchmarks
{
    private const int Calls = 1024;
    private static readonly string[] Names = ["alice", "bob.sm", "carol.j", "dave1", "erin_k", "frank.w", "grace", "heidi.x"];
    private byte[][] _bytes = null!;
    private GCHandle[] _pins = null!;
    private byte** _pointers;
    private nuint* _lengths;

    [GlobalSetup]
    public void Setup()
    {
        NativeCityHash.Load();
        _bytes = Names.Select(Encoding.UTF8.GetBytes).ToArray();
        _pins = _bytes.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        _pointers = (byte**)NativeMemory.Alloc((nuint)(Names.Length * sizeof(byte*)));
        _lengths = (nuint*)NativeMemory.Alloc((nuint)(Names.Length * sizeof(nuint)));
        for (var i = 0; i < Names.Length; i++)
        {
            _pointers[i] = (byte*)_pins[i].AddrOfPinnedObject();
            _lengths[i] = (nuint)_bytes[i].Length;
        }
        if (NativeCityHash.HashNames(_pointers, _lengths, Names.Length, Calls) != UserName())
            throw new InvalidOperationException("The native and managed hashes of the names differ.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var pin in _pins) pin.Free();
        NativeMemory.Free(_pointers);
        NativeMemory.Free(_lengths);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public ulong NativeOnBytes() => NativeCityHash.HashNames(_pointers, _lengths, Names.Length, Calls);

    /// <summary>Managed CityHash64 on the same bytes: the hash alone, without the conversion.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public ulong ManagedOnBytes()
    {
        ulong sum = 0;
        var bytes = _bytes;
        for (int i = 0, j = 0; i < Calls; i++)
        {
            sum += CityHash.CityHash64(bytes[j]);
            if (++j == bytes.Length) j = 0;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public ulong UserName()
    {
        ulong sum = 0;
        var names = Names;
        for (int i = 0, j = 0; i < Calls; i++)
        {
            sum += UserNameHash.Compute(names[j]);
            if (++j == names.Length) j = 0;
        }
        return sum;
    }
}
