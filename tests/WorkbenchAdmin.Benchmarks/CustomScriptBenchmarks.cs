using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// A custom-script decision against a bare start-and-wait of the same script with the same environment.
/// Target: the engine's overhead within 20%.
/// </summary>
public class CustomScriptBenchmarks
{
    private string _dir = null!;
    private string _script = null!;
    private CandidateSet _set = null!;
    private CustomScriptPolicy _policy = null!;
    private readonly BalanceEngine _engine = new();
    private const string Nodes = "node1.example.com:8787,node2.example.com:8787,node3.example.com:8787";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("wbadmin-bench-").FullName;
        _script = Path.Combine(_dir, "balance.sh");
        File.WriteAllText(_script, "#!/bin/sh\necho \"${RSTUDIO_NODES%%,*}\"\n");
        File.SetUnixFileMode(_script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _set = new CandidateSet(Nodes.Split(',').Select(NodeCandidate.Parse));
        _policy = new CustomScriptPolicy(new BalancerScriptOptions(_script));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Baseline = true)]
    public string BareStartAndWait()
    {
        var start = new ProcessStartInfo(_script) { UseShellExecute = false, RedirectStandardOutput = true };
        start.Environment["RSTUDIO_USERNAME"] = "alice";
        start.Environment["RSTUDIO_NODES"] = Nodes;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    [Benchmark]
    public BalanceDecision EngineDecision() => _engine.Decide(_policy, "alice", _set);
}
