using System.Globalization;
using System.Text;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Simulation;

namespace WorkbenchAdmin.Core.Commands.Decisions;

public sealed record MeasureBalancerRequest
{
    /// <summary>The methods to compare; null for every built-in one (custom only when named).</summary>
    public IReadOnlyList<string>? Method { get; init; }
    /// <summary>A CSV of arrivals; else <see cref="Session"/>; else a synthetic workload.</summary>
    public string? Path { get; init; }
    /// <summary>Recorded sessions (Get-WbSession -IncludeEnded).</summary>
    public IReadOnlyList<SessionInfo>? Session { get; init; }
    /// <summary>Read the recorded sessions, ended ones included, from the store <see cref="Store"/> names.</summary>
    public bool Recorded { get; init; }
    /// <summary>
    /// Where the store is (with <see cref="Recorded"/>), and the configuration root whose custom balancer script
    /// <c>custom</c> runs when no <see cref="ScriptPath"/> is given, as production does.
    /// </summary>
    public Core.Store.StoreRequest Store { get; init; } = new();
    public int UserCount { get; init; } = 200;
    /// <summary>Null: 4 for synthetic and CSV workloads, the recorded sessions' own nodes for recorded ones.</summary>
    public int? NodeCount { get; init; }
    public int Cores { get; init; } = 8;
    public int Days { get; init; } = 7;
    public int Seed { get; init; } = 1;
    /// <summary>CPU per session (cores kept runnable) where the workload does not say: recorded sessions, CSV lines without cpu.</summary>
    public double SessionCpu { get; init; } = 0.5;
    public IReadOnlyList<BalancerEvent> Event { get; init; } = [];
    public int? MaxSessionsPerNode { get; init; }
    /// <summary>The policies' options as cmdlet parameters give them (name to value), such as BalanceFactor.</summary>
    public IReadOnlyDictionary<string, object?>? PolicyOptionValues { get; init; }
    public string? ScriptPath { get; init; }
    public double? TimeoutSec { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(15);
    public bool Detail { get; init; }
    /// <summary>Where to write the HTML report; null for none.</summary>
    public string? ReportPath { get; init; }
}

/// <summary>
/// Measure-WbBalancer: builds the workload once, checks the events, then replays the workload through each method
/// in turn (one result object per method, written as each finishes) and writes the report when asked.
/// </summary>
public static class MeasureBalancerOperation
{
    /// <summary>The methods compared when none are named: every built-in one; custom needs a script, so only when asked.</summary>
    public static IReadOnlyList<string> DefaultMethods { get; } = BalancingPolicies.ProgramMethods;

    public static IReadOnlyList<SimulationRun> Run(MeasureBalancerRequest request, ICommandHost host)
    {
        // Everything that can be refused is, before the store is read (it may hold a long history).
        var interval = request.Interval.TotalSeconds;
        if (interval != Math.Floor(interval) || interval < LoadAverage.SampleSeconds || interval % LoadAverage.SampleSeconds != 0 || interval > 86400)
            throw new WbException("InvalidInterval", WbErrorCategory.InvalidArgument,
                $"-Interval {request.Interval.ToString("c", CultureInfo.InvariantCulture)} must be whole seconds, a multiple of 5 s, at most a day.", request.Interval);
        if (!request.Recorded && (request.Store.ConnectionString is not null || request.Store.CredentialUserName is not null))
            throw new WbException("StoreWithoutRecorded", WbErrorCategory.InvalidArgument,
                "-ConnectionString and -Credential name the store whose whole history -Recorded replays; they do nothing for this workload: leave them out.",
                request.Store.ConnectionString is null ? "Credential" : "ConnectionString");
        var policies = Policies(request);
        if (!request.Recorded && request.Store.ConfigRoot is { } root && !policies.Any(p => p.Name == BalancingMethods.Custom))
            host.WriteWarning($"-ConfigRoot {root} is read only for -Recorded (the store its database.conf names) and for custom's script: this run reads nothing from it.");
        if (request.Recorded)
            request = request with { Session = Cluster.ClusterOperations.Open(request.Store, host).GetSessions(new Store.SessionFilter { IncludeEnded = true }, host.Cancellation) };
        var workload = BuildWorkload(request);
        var options = new SimulationOptions
        {
            Events = request.Event,
            MaxSessionsPerNode = BalanceDecisionOperation.OptionsFor(request.MaxSessionsPerNode).MaxSessionsPerNode,
            IntervalSeconds = (int)interval,
            Detail = request.Detail,
        };
        BalancerSimulator.ResolveEvents(workload, options.Events); // a bad event fails before any run
        host.WriteVerbose($"{workload.Description}: {workload.Sessions.Count} sessions of {workload.Users.Count} users on {workload.Nodes.Count} nodes over " +
                          $"{TimeSpan.FromSeconds(workload.Duration).ToString(@"d\.hh\:mm", CultureInfo.InvariantCulture)}; methods {string.Join(", ", policies.Select(p => p.Name))}");

        const string activity = "Measure-WbBalancer";
        var runs = new List<SimulationRun>();
        for (var m = 0; m < policies.Count; m++)
        {
            var policy = policies[m];
            var index = m;
            var run = BalancerSimulator.Run(workload, policy, options, host.Cancellation, done =>
                host.WriteProgress(activity, string.Create(CultureInfo.InvariantCulture,
                    $"{policy.Name} ({index + 1} of {policies.Count}): day {Math.Min(workload.Duration / 86400.0 * done + 1, Math.Max(1, workload.Duration / 86400.0)):0} of {Math.Ceiling(workload.Duration / 86400.0):0}"),
                    (int)Math.Clamp((index + done) * 100 / policies.Count, 0, 100)));
            host.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                $"{policy.Name}: {run.Result.Decisions} decisions in {run.Result.Elapsed.TotalMilliseconds:0} ms ({run.Result.DecisionsPerSecond:0} decisions/s while deciding)"));
            runs.Add(run);
            host.WriteObject(run.Result);
        }
        host.WriteProgress(activity, "done", -1);

        if (request.ReportPath is { } path && host.ShouldProcess(path, "Write the balancer comparison report"))
        {
            var html = BalancerReport.Render(workload, runs);
            AtomicFile.Write(path, Encoding.UTF8.GetBytes(html), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            host.WriteVerbose($"Wrote the report to {path}");
        }
        return runs;
    }

    internal static Workload BuildWorkload(MeasureBalancerRequest r)
    {
        if (!double.IsFinite(r.SessionCpu) || r.SessionCpu < 0 || r.SessionCpu > 4096)
            throw new WbException("InvalidSessionCpu", WbErrorCategory.InvalidArgument,
                $"-SessionCpu {r.SessionCpu.ToString(CultureInfo.InvariantCulture)} must be from 0 to 4096 cores.", r.SessionCpu);
        if (r.Path is { } path)
            return WorkloadCsv.Read(path, Workload.NumberedNodes(r.NodeCount ?? 4, r.Cores), r.SessionCpu);
        if (r.Session is { } recorded)
        {
            if (recorded.Count == 0 && r.Recorded)
                throw new WbException("EmptyWorkload", WbErrorCategory.InvalidData, "The store has no sessions, running or ended, to replay.", "Recorded");
            Workload.ValidateCores(r.Cores);
            var nodes = r.NodeCount is { } count
                ? Workload.NumberedNodes(count, r.Cores)
                : recorded.Select(s => s.Node).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                          .Select(n => NodeCandidate.Parse(n)).Select(n => new SimNodeSpec(n.Host, n.Port, r.Cores)).ToArray();
            return Workload.FromRecords($"{recorded.Count} recorded sessions", recorded.Select(s => (s.UserName, s.Started, s.Ended, r.SessionCpu)).ToArray(), nodes);
        }
        return SyntheticWorkload.Generate(new SyntheticWorkloadOptions
        {
            UserCount = r.UserCount, NodeCount = r.NodeCount ?? 4, Cores = r.Cores, Days = r.Days, Seed = r.Seed,
        });
    }

    private static List<IBalancingPolicy> Policies(MeasureBalancerRequest r)
    {
        var names = r.Method is { Count: > 0 } m ? m : DefaultMethods;
        var options = BalanceDecisionOperation.ScriptOptions(PolicyOptions.From(r.PolicyOptionValues), r.ScriptPath ?? ConfiguredScript(r, names), r.TimeoutSec);
        var policies = new List<IBalancingPolicy>();
        foreach (var name in names)
        {
            var policy = BalancingPolicies.Create(name, options);
            if (!policies.Any(p => p.Name == policy.Name)) policies.Add(policy);
        }
        return policies;
    }

    /// <summary>
    /// The script <c>custom</c> runs without -ScriptPath: the one an explicitly given configuration root's module settings
    /// name, as production runs it; without -ConfigRoot (this is often run away from the cluster), Workbench's default path.
    /// Read only when custom is compared, so a node's configuration is never needed for the other methods.
    /// </summary>
    private static string ConfiguredScript(MeasureBalancerRequest r, IReadOnlyList<string> names) =>
        r.Store.ConfigRoot is { } configRoot && names.Any(n => string.Equals(n, BalancingMethods.Custom, StringComparison.OrdinalIgnoreCase))
            ? EffectiveScript(Configuration.ConfigRoot.Resolve(configRoot))
            : LoadBalancerConfig.DefaultCustomScript;

    private static string EffectiveScript(ConfigRoot root) => BalancingPolicies.LoadSettings(root).Effective(LoadBalancerConfig.Load(root)).ScriptPath;
}
