using System.Diagnostics;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Commands.Decisions;

public sealed record TestBalancerScriptRequest
{
    public string? ConfigRoot { get; init; }
    public string? ScriptPath { get; init; }
    public IReadOnlyList<string>? UserName { get; init; }
    /// <summary>One node list (host:port entries) to test with; none means the built-in samples.</summary>
    public IReadOnlyList<NodeCandidate>? Node { get; init; }
    public double? TimeoutSec { get; init; }
    public bool? UseIPAddress { get; init; }
}

/// <summary>Test-WbBalancerScript: checks a custom script against sample users and node lists before switching to custom.</summary>
public static class TestBalancerScriptOperation
{
    public static readonly IReadOnlyList<string> SampleUsers = ["alice", "bob", "josé.garcía"];

    public static readonly IReadOnlyList<IReadOnlyList<NodeCandidate>> SampleNodeLists =
    [
        [NodeCandidate.Parse("node1.example.com:8787")],
        [NodeCandidate.Parse("node1.example.com:8787"), NodeCandidate.Parse("node2.example.com:8787")],
        [NodeCandidate.Parse("10.0.0.11:443"), NodeCandidate.Parse("10.0.0.12:443"), NodeCandidate.Parse("10.0.0.13:443")],
    ];

    public static void Run(TestBalancerScriptRequest request, ICommandHost host)
    {
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var (configuredScript, configuredUseIp) = BalancingPolicies.LoadSettings(root).Effective(LoadBalancerConfig.Load(root));
        var options = BalanceDecisionOperation.ScriptOptions(PolicyOptions.Default, request.ScriptPath ?? configuredScript, request.TimeoutSec);
        var useIp = request.UseIPAddress ?? configuredUseIp;
        var policy = BalancingPolicies.Create(BalancingMethods.Custom, options);
        var scriptPath = options.Get(CustomScriptPolicy.ScriptPathOption);
        var engine = new BalanceEngine();
        var users = request.UserName is { Count: > 0 } u ? u : SampleUsers;
        var lists = request.Node is { Count: > 0 } n ? [n] : SampleNodeLists;

        foreach (var list in lists)
        {
            var set = new CandidateSet(list.Select(Copy));
            var nodes = CustomScriptPolicy.NodesVariable(set, useIp);
            foreach (var user in users)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    var decision = engine.Decide(policy, user, set, useIp, cancel: host.Cancellation);
                    host.WriteObject(new BalancerScriptTestResult
                    {
                        ScriptPath = scriptPath, UserName = user, Nodes = nodes, Passed = true,
                        Chosen = decision.Node, Duration = watch.Elapsed,
                    });
                }
                catch (WbException e)
                {
                    host.WriteObject(new BalancerScriptTestResult
                    {
                        ScriptPath = scriptPath, UserName = user, Nodes = nodes, Passed = false,
                        Failure = e is BalancerScriptException s ? s.Failure.ToString() : e.ErrorId, Message = e.Message, Duration = watch.Elapsed,
                    });
                    // A missing or non-executable script fails every case the same way: say it once.
                    if (e is BalancerScriptException { Failure: BalancerScriptFailure.NotFound or BalancerScriptFailure.NotExecutable }) return;
                }
            }
        }
    }

    /// <summary>The samples are shared; each run gets its own copies so ids and caches never leak between runs.</summary>
    private static NodeCandidate Copy(NodeCandidate n) => new()
    {
        Id = n.Id, Host = n.Host, IPv4Address = n.IPv4Address, Port = n.Port, Online = n.Online,
        ActiveSessions = n.ActiveSessions, Load1 = n.Load1, Load5 = n.Load5, Load15 = n.Load15, Cores = n.Cores,
    };
}
