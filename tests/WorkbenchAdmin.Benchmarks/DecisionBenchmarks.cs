using BenchmarkDotNet.Attributes;
using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// One decision per method (Workbench's and the module's own) over a prepared snapshot of 2, 16 and 1,000 candidates.
/// Targets: at 16 candidates at most 200 ns and no allocation beyond the result; at 1,000 at most 5 µs; building the
/// candidate set at most twice the decision it feeds.
/// </summary>
public class DecisionBenchmarks
{
    private readonly BalanceEngine _engine = new();
    private CandidateSet _set = null!;
    private IBalancingPolicy _policy = null!;
    private NodeCandidate[] _nodes = null!;

    [Params(2, 16, 1000)]
    public int Candidates { get; set; }

    [Params("sessions", "system-load", "user-hash", "consistent-hash", "bounded-hash")]
    public string Method { get; set; } = "sessions";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _nodes = Enumerable.Range(0, Candidates).Select(i => new NodeCandidate
        {
            Host = $"node{i:D4}.cluster.example.com",
            IPv4Address = $"10.0.{i / 250}.{i % 250 + 1}",
            Port = 8787,
            Online = i % 10 != 9 || Candidates == 2,
            ActiveSessions = random.Next(0, 40),
            Load5 = random.NextDouble() * 8,
            Cores = 8,
        }).ToArray();
        _set = new CandidateSet(_nodes);
        _policy = BalancingPolicies.Create(Method);
        _engine.Decide(_policy, "alice", _set); // prepares the set's stable order once, as a live snapshot would
    }

    [Benchmark]
    public BalanceDecision Decide() => _engine.Decide(_policy, "alice.smith", _set);

    /// <summary>Building the candidate set itself (done once per cluster state, not per decision): its baseline is <see cref="Decide"/>.</summary>
    [Benchmark]
    public int BuildSnapshot()
    {
        var set = new CandidateSet(_nodes);
        return set.StableOrder(false)[0];
    }
}
