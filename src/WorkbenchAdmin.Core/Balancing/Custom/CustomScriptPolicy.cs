namespace WorkbenchAdmin.Core.Balancing.Custom;

/// <summary>
/// <c>custom</c>: the script gets the online candidates in node order as RSTUDIO_NODES and must print one
/// of those entries exactly (surrounding white space trimmed). Anything else fails the decision.
/// </summary>
public sealed class CustomScriptPolicy(BalancerScriptOptions options) : IBalancingPolicy
{
    public BalancerScriptOptions Options { get; } = options;
    public string Name => BalancingMethods.Custom;

    public static IBalancingPolicy Create(PolicyOptions options) =>
        new CustomScriptPolicy(options.Script ?? new BalancerScriptOptions(Configuration.LoadBalancerConfig.DefaultCustomScript));

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var set = context.Candidates;
        scores.Fill(double.NaN);
        var nodes = NodesVariable(set, context.UseIpAddress, context.MaxSessionsPerNode);
        var answer = BalancerScriptRunner.Run(Options, context.UserName, nodes, context.Cancel);
        var index = set.IndexOfEntry(answer, context.UseIpAddress);
        if (index < 0 || !context.IsEligible(set[index]))
            throw new BalancerScriptException(BalancerScriptFailure.UnknownNode, Options.ScriptPath,
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
