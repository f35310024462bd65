using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Errors;

namespace WorkbenchAdmin.Core.Commands.Balancing;

public sealed record InvokeBalanceDecisionRequest
{
    public string? ConfigRoot { get; init; }
    /// <summary>Overrides the load-balancer file's method.</summary>
    public string? Method { get; init; }
    public IReadOnlyList<NodeCandidate>? Node { get; init; }
    public string? ScriptPath { get; init; }
    public double? TimeoutSec { get; init; }
    public bool? UseIPAddress { get; init; }
}

/// <summary>
/// Invoke-WbBalanceDecision: set up once per pipeline (method, script, candidates), then one decision per
/// user name. A failed decision is a non-terminating error for that user; bad setup stops the command.
/// </summary>
public sealed class BalanceDecisionOperation
{
    private readonly BalanceEngine _engine;

    private BalanceDecisionOperation(IBalancingPolicy policy, CandidateSet candidates, bool useIp, BalanceEngine engine)
    {
        Policy = policy;
        Candidates = candidates;
        UseIPAddress = useIp;
        _engine = engine;
    }

    public IBalancingPolicy Policy { get; }
    public CandidateSet Candidates { get; }
    public bool UseIPAddress { get; }

    public static BalanceDecisionOperation Begin(InvokeBalanceDecisionRequest request, TimeProvider? time = null)
    {
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var lb = LoadBalancerConfig.Load(root);
        var policy = BalancingPolicies.Create(request.Method ?? lb.Method, ScriptOptions(request, lb));
        if (request.Node is null || request.Node.Count == 0)
            throw new WbException("NoCandidateSource", WbErrorCategory.InvalidArgument,
                "No candidates: pass the nodes with -Node (objects, or host:port strings).", null);
        return new BalanceDecisionOperation(policy, new CandidateSet(request.Node), request.UseIPAddress ?? lb.UseIpAddress, new BalanceEngine(time));
    }

    internal static BalancerScriptOptions ScriptOptions(InvokeBalanceDecisionRequest request, LoadBalancerConfig lb) =>
        ScriptOptions(request.ScriptPath ?? lb.CustomScriptPath, request.TimeoutSec);

    internal static BalancerScriptOptions ScriptOptions(string scriptPath, double? timeoutSec)
    {
        if (timeoutSec is { } t && (!double.IsFinite(t) || t <= 0 || t > 3600))
            throw new WbException("InvalidTimeout", WbErrorCategory.InvalidArgument, $"-TimeoutSec {t} must be more than 0 and at most 3600.", t);
        var options = new BalancerScriptOptions(scriptPath);
        return timeoutSec is { } s ? options with { Timeout = TimeSpan.FromSeconds(s) } : options;
    }

    public void Decide(string userName, ICommandHost host)
    {
        try
        {
            var decision = _engine.Decide(Policy, userName, Candidates, UseIPAddress);
            host.WriteVerbose($"{decision.UserName} -> {decision.Node} in {decision.ElapsedMicroseconds:0.#} µs: {decision.Reason}");
            host.WriteObject(decision);
        }
        catch (WbException e)
        {
            host.WriteError(e);
        }
    }
}
