using System.Diagnostics;
using System.Globalization;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// What a user waits for in a fresh shell: pwsh start + Import-Module of the staged package + a first cmdlet,
/// against a bare pwsh start, in alternating runs so machine noise hits both alike. Target: ≤ 100 ms over
/// the bare start. A timing harness, not a BenchmarkDotNet job: each sample is a whole process.
/// Run after ./build.ps1 -Task Package: dotnet run -c Release --project tests/WorkbenchAdmin.Benchmarks -- import [manifest]
/// </summary>
public static class ImportTime
{
    private const int Runs = 20;

    public static void Run(string repoRoot, string? manifest = null)
    {
        manifest ??= Directory.GetFiles(Path.Combine(repoRoot, "out", "WorkbenchAdmin"), "WorkbenchAdmin.psd1", SearchOption.AllDirectories).Single();
        var config = Path.Combine(repoRoot, "examples", "etc-rstudio");
        const string bare = "exit";
        var withModule = $"Import-Module '{manifest}'; Get-WbConfig -ConfigRoot '{config}' -File rserver.conf | Out-Null";
        Time(bare); Time(withModule); // warm the file cache
        var bareMs = new List<double>();
        var moduleMs = new List<double>();
        for (var i = 0; i < Runs; i++)
        {
            bareMs.Add(Time(bare));
            moduleMs.Add(Time(withModule));
        }
        Report("bare pwsh start", bareMs);
        Report("+ Import-Module + Get-WbConfig", moduleMs);
        var over = Median(moduleMs) - Median(bareMs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"over bare start: {over:0} ms (median), ratio {Median(moduleMs) / Median(bareMs):0.00}; target ≤ 100 ms"));
    }

    private static double Time(string command)
    {
        var start = new ProcessStartInfo("pwsh", ["-NoProfile", "-NonInteractive", "-Command", command]) { RedirectStandardOutput = true };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"pwsh -Command \"{command}\" exited with {process.ExitCode}");
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static void Report(string what, List<double> ms)
    {
        var sorted = ms.Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what,-32} median {sorted[sorted.Count / 2],6:0} ms  p90 {sorted[(int)(sorted.Count * 0.9)],6:0} ms  min {sorted[0],6:0} ms"));
    }
}
