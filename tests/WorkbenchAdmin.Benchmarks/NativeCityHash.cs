using System.Diagnostics;
using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// google/cityhash v1.1 built natively (g++ -O3 -march=native) at setup, so the managed figures are always read as a
/// ratio to a baseline measured in the same run. CITYHASH_SRC names the checkout's src directory (city.cc, city.h);
/// the build goes to a temp directory, nothing of it is kept in this repository.
/// </summary>
internal static unsafe class NativeCityHash
{
    private static delegate* unmanaged[SuppressGCTransition]<byte*, nuint, ulong> _hash;
    private static delegate* unmanaged[SuppressGCTransition]<byte**, nuint*, int, int, ulong> _names;

    public static ulong Hash(ReadOnlySpan<byte> s)
    {
        fixed (byte* p = s) return _hash(p, (nuint)s.Length);
    }

    /// <summary>Hashes names[i % count] for i below <paramref name="iterations"/> in a native loop; the sum of the hashes.</summary>
    public static ulong HashNames(byte** names, nuint* lengths, int count, int iterations) => _names(names, lengths, count, iterations);

    public static void Load()
    {
        if (_hash != null) return;
        var src = Environment.GetEnvironmentVariable("CITYHASH_SRC");
        if (string.IsNullOrEmpty(src) || !File.Exists(Path.Combine(src, "city.cc")))
            throw new InvalidOperationException(
                $"CITYHASH_SRC is '{src}': set it to the src directory of a google/cityhash v1.1 checkout (with city.cc) to measure the native baseline.");
        var shim = Path.Combine(AppContext.BaseDirectory, "Native", "cityhash_baseline.cc");
        var dir = Directory.CreateTempSubdirectory("wb-cityhash-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.h"), "#define HAVE_BUILTIN_EXPECT 1\n"); // what cityhash's ./configure writes on Linux
        var lib = Path.Combine(dir, "libwbcity.so");
        var gxx = Process.Start(new ProcessStartInfo("g++", ["-O3", "-march=native", "-shared", "-fPIC", "-I", dir, "-I", src, "-o", lib,
            Path.Combine(src, "city.cc"), shim]) { RedirectStandardError = true })!;
        var errors = gxx.StandardError.ReadToEnd();
        gxx.WaitForExit();
        if (gxx.ExitCode != 0) throw new InvalidOperationException($"g++ failed building the native CityHash baseline in {dir}:\n{errors}");
        var handle = NativeLibrary.Load(lib);
        _hash = (delegate* unmanaged[SuppressGCTransition]<byte*, nuint, ulong>)NativeLibrary.GetExport(handle, "wb_cityhash64");
        _names = (delegate* unmanaged[SuppressGCTransition]<byte**, nuint*, int, int, ulong>)NativeLibrary.GetExport(handle, "wb_cityhash64_names");
    }
}
