namespace WorkbenchAdmin.Core.Balancing.Custom;

/// <summary>
/// <c>custom</c>: the script gets the online candidates in node order as RSTUDIO_NODES and must print one
/// of those entries exactly (surrounding white space trimmed). Anything else fails the decision.
/// </summary>
public sealed class CustomScriptPolicy(BalancerScriptOptions options) : IBalancingPolicy
{
    public BalancerScriptOptions Script { get; } = options;
    public string Name => BalancingMethods.Custom;
    /// <summary>A script may take seconds: a placement runs it before it queues for the database.</summary>
    public bool RunsOutsideTransaction => true;

    /// <summary>The script to run (callers give the configured one when no -ScriptPath is).</summary>
    public static readonly PolicyOption<string> ScriptPathOption = PolicyOptionKinds.Text(
        "ScriptPath", null, "InvalidScriptPath", "must not be empty", Configuration.LoadBalancerConfig.DefaultCustomScript, p => p.Length > 0);

    /// <summary>How long the script may take per decision.</summary>
    public static readonly PolicyOption<double> TimeoutSecOption = PolicyOptionKinds.Number(
        "TimeoutSec", null, "InvalidTimeout", "must be more than 0 and at most 3600", BalancerScriptOptions.DefaultTimeout.TotalSeconds, t => t > 0 && t <= 3600);

    /// <summary>No [balancer] keys: the program never runs custom (it is custom).</summary>
    public static IReadOnlyList<PolicyOption> Options { get; } = [ScriptPathOption, TimeoutSecOption];

    public static IBalancingPolicy Create(PolicyOptions options)
    {
        var script = new BalancerScriptOptions(options.Get(ScriptPathOption));
        return new CustomScriptPolicy(options.IsGiven(TimeoutSecOption) ? script with { Timeout = TimeSpan.FromSeconds(options.Get(TimeoutSecOption)) } : script);
    }

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var set = context.Candidates;
        scores.Fill(double.NaN);
        var nodes = NodesVariable(set, context.UseIpAddress, context.MaxSessionsPerNode);
        var answer = BalancerScriptRunner.Run(Script, context.UserName, nodes, context.Cancel);
        var index = set.IndexOfEntry(answer, context.UseIpAddress);
        if (index < 0 || !context.IsEligible(set[index]))
            throw new BalancerScriptException(BalancerScriptFailure.UnknownNode, Script.ScriptPath,
                $"printed \"{SafeText.Quote(answer, BalancerScriptRunner.Quoted)}\", which is not one of RSTUDIO_NODES=\"{SafeText.Quote(nodes, BalancerScriptRunner.Quoted)}\".");
        return new PolicyChoice(index, ScriptOutput: answer);
    }

    public string Explain(BalanceDecision d) =>
        $"the custom script chose \"{d.ScriptOutput}\" among {d.OnlineCount} online nodes";

    /// <summary>RSTUDIO_NODES: the entries of the nodes that may take the session, comma-separated, in node order.</summary>
    public static string NodesVariable(CandidateSet set, bool useIpAddress, int? maxSessionsPerNode = null)
    {
        var entries = new List<string>(set.Count);
        foreach (var node in set.Nodes)
            if (BalanceContext.IsEligible(node, maxSessionsPerNode)) entries.Add(node.NodesEntry(useIpAddress));
        return string.Join(",", entries);
    }
}
