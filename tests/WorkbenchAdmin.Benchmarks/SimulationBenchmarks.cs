using BenchmarkDotNet.Attributes;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Simulation;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// Measure-WbBalancer's simulator: decisions per second on 16 nodes, per built-in method, the simulator's own work
/// included (session ends, the 5-s load model, stickiness and event bookkeeping). A dense workload (100,000 arrivals
/// of 5,000 users in one hour, each a few seconds to minutes long) so the decisions, not idle load ticks, dominate.
/// Target: at least 1,000,000 decisions per second on one core, i.e. at most 1 µs per operation here.
/// The 30-day, 500-user, 16-node run end to end in pwsh (target under 5 s) is measured as the README says.
/// </summary>
public class SimulationBenchmarks
{
    private const int Arrivals = 100_000;
    private Workload _workload = null!;
    private IBalancingPolicy _policy = null!;
    private readonly SimulationOptions _options = new();

    [Params("sessions", "system-load", "user-hash", "consistent-hash", "bounded-hash")]
    public string Method { get; set; } = "sessions";

    [GlobalSetup]
    public void Setup()
    {
        var random = new SimRandom(42);
        var users = Enumerable.Range(0, 5000).Select(i => $"user{i:D4}").ToArray();
        var sessions = Enumerable.Range(0, Arrivals).Select(i =>
        {
            var start = (long)i * 3600 / Arrivals;
            return new WorkloadSession(random.Next(users.Length), start, start + 1 + random.Next(300), 0.05 + random.NextDouble() * 0.5);
        }).ToArray();
        _workload = new Workload("dense", SyntheticWorkload.Epoch, 3600 + 300, users, sessions, Workload.NumberedNodes(16, 8));
        _policy = BalancingPolicies.Create(Method);
    }

    [Benchmark(OperationsPerInvoke = Arrivals)]
    public long SimulatedDecision() => BalancerSimulator.Run(_workload, _policy, _options).Result.Decisions;
}
