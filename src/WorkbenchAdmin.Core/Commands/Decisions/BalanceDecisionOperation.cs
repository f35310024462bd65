using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Commands.Decisions;

public sealed record InvokeBalanceDecisionRequest : Core.Store.StoreRequest
{
    /// <summary>Overrides the load-balancer file's method.</summary>
    public string? Method { get; init; }
    public IReadOnlyList<NodeCandidate>? Node { get; init; }
    public string? ScriptPath { get; init; }
    public double? TimeoutSec { get; init; }
    public bool? UseIPAddress { get; init; }
    /// <summary>The policies' options as cmdlet parameters give them (name to value), such as BalanceFactor.</summary>
    public IReadOnlyDictionary<string, object?>? PolicyOptionValues { get; init; }
    public int? MaxSessionsPerNode { get; init; }
    /// <summary>Keep users on a node where the store shows them running sessions.</summary>
    public bool Sticky { get; init; }
}

/// <summary>
/// Invoke-WbBalanceDecision: set up once per pipeline (method, script, candidates), then one decision per
/// user name. A failed decision is a non-terminating error for that user; bad setup stops the command.
/// </summary>
public sealed class BalanceDecisionOperation
{
    private readonly BalanceEngine _engine;

    private BalanceDecisionOperation(IBalancingPolicy policy, CandidateSet candidates, bool useIp, BalancingOptions options, BalanceEngine engine)
    {
        Options = options;
        Policy = policy;
        Candidates = candidates;
        UseIPAddress = useIp;
        _engine = engine;
    }

    public IBalancingPolicy Policy { get; }
    public BalancingOptions Options { get; }
    public CandidateSet Candidates { get; }
    public bool UseIPAddress { get; }

    /// <summary>Candidates come from -Node when given, else from the cluster store (live counts and loads).</summary>
    public static BalanceDecisionOperation Begin(InvokeBalanceDecisionRequest request, ICommandHost host, TimeProvider? time = null)
    {
        var (method, policyOptions, useIp) = MethodAndOptions(request.ConfigRoot, request.Method, request.ScriptPath, request.TimeoutSec, request.UseIPAddress, request.PolicyOptionValues);
        var options = OptionsFor(request.MaxSessionsPerNode);
        CandidateSet candidates;
        UserSessions? stickyTo = null;
        if (request.Node is { Count: > 0 } nodes)
        {
            candidates = new CandidateSet(nodes);
            if (request.Sticky)
                host.WriteWarning("-Sticky keeps users where the store shows their sessions; with -Node there is no store to ask, so it changes nothing.");
        }
        else
        {
            (candidates, var sessions) = FromStore(request, host);
            if (request.Sticky) stickyTo = sessions;
        }
        var policy = BalancingPolicies.Create(method, policyOptions, stickyTo);
        return new BalanceDecisionOperation(policy, candidates, useIp, options, new BalanceEngine(time));
    }

    /// <summary>The balancing policy, script and IP option of a configuration root's load-balancer file, each overridden when given.</summary>
    internal static IBalancingPolicy PolicyFor(string? configRoot, string? method, string? scriptPath, double? timeoutSec, bool? useIp,
                                               IReadOnlyDictionary<string, object?>? optionValues, out bool useIpAddress)
    {
        var (name, options, useIpEffective) = MethodAndOptions(configRoot, method, scriptPath, timeoutSec, useIp, optionValues);
        useIpAddress = useIpEffective;
        return BalancingPolicies.Create(name, options);
    }

    /// <summary>The method, the policy options (every one given validated) and the IP option, the configuration root's where not given.</summary>
    private static (string Method, PolicyOptions Options, bool UseIPAddress) MethodAndOptions(string? configRoot, string? method, string? scriptPath, double? timeoutSec,
                                                                                            bool? useIp, IReadOnlyDictionary<string, object?>? optionValues)
    {
        var root = Configuration.ConfigRoot.Resolve(configRoot);
        var lb = LoadBalancerConfig.Load(root);
        var (configuredScript, configuredUseIp) = BalancingPolicies.LoadSettings(root).Effective(lb);
        return (method ?? lb.Method, ScriptOptions(PolicyOptions.From(optionValues), scriptPath ?? configuredScript, timeoutSec), useIp ?? configuredUseIp);
    }

    /// <summary>The options every policy honours, validated.</summary>
    internal static BalancingOptions OptionsFor(int? maxSessionsPerNode) =>
        maxSessionsPerNode is { } max ? new BalancingOptions { MaxSessionsPerNode = ValidMaxSessionsPerNode(max) } : BalancingOptions.None;

    internal static int ValidMaxSessionsPerNode(int max) => max >= 1 ? max
        : throw new WbException("InvalidMaxSessionsPerNode", WbErrorCategory.InvalidArgument, $"-MaxSessionsPerNode {max} must be at least 1.", max);

    private static (CandidateSet, UserSessions) FromStore(InvokeBalanceDecisionRequest request, ICommandHost host)
    {
        try
        {
            var store = Cluster.ClusterOperations.Open(request, host);
            if (!request.Sticky) return (store.GetCandidates(request.OfflineAfter, host.Cancellation), UserSessions.None);
            var (nodes, loads) = store.GetClusterView(request.OfflineAfter, host.Cancellation);
            return (new CandidateSet(nodes.Select(n => n.Candidate)), UserSessions.From(loads));
        }
        catch (WbException e) when (e.ErrorId == WbErrorIds.DatabaseConfigMissing)
        {
            throw new WbException("NoCandidateSource", WbErrorCategory.InvalidArgument,
                "No candidates: pass the nodes with -Node (objects, or host:port strings), or reach the cluster store " +
                "(database.conf under -ConfigRoot, or -ConnectionString).", null, e);
        }
    }

    /// <summary><paramref name="options"/> with custom's script and its timeout (checked whichever policy runs, as every option given is).</summary>
    internal static PolicyOptions ScriptOptions(PolicyOptions options, string scriptPath, double? timeoutSec)
    {
        options = options.WithDefault(CustomScriptPolicy.ScriptPathOption, scriptPath);
        return options.WithDefault(CustomScriptPolicy.TimeoutSecOption, timeoutSec);
    }

    public void Decide(string userName, ICommandHost host)
    {
        try
        {
            var decision = _engine.Decide(Policy, userName, Candidates, UseIPAddress, Options, host.Cancellation);
            host.WriteVerbose($"{decision.UserName} -> {decision.Node} in {decision.ElapsedMicroseconds:0.#} µs: {decision.Reason}");
            host.WriteObject(decision);
        }
        catch (WbException e)
        {
            host.WriteError(e);
        }
    }
}
