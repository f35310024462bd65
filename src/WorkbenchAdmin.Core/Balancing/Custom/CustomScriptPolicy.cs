namespace WorkbenchAdmin.Core.Balancing.Custom;

/// <summary>
/// <c>custom</c>: the script gets the online candidates in node order as RSTUDIO_NODES and must print one
/// of those entries exactly (surrounding white space trimmed). Anything else fails the decision.
/// </summary>
public sealed class CustomScriptPolicy(BalancerScriptOptions options) : IBalancingPolicy
{
    public BalancerScriptOptions Options { get; } = options;
    public string Name => BalancingMethods.Custom;

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var set = context.Candidates;
        scores.Fill(double.NaN);
        var nodes = NodesVariable(set, context.UseIpAddress);
        var answer = BalancerScriptRunner.Run(Options, context.UserName, nodes);
        var index = set.IndexOfEntry(answer, context.UseIpAddress);
        if (index < 0 || !set[index].Online)
            throw new BalancerScriptException(BalancerScriptFailure.UnknownNode, Options.ScriptPath,
                $"printed \"{SafeText.Quote(answer, BalancerScriptRunner.Quoted)}\", which is not one of RSTUDIO_NODES=\"{SafeText.Quote(nodes, BalancerScriptRunner.Quoted)}\".");
        return new PolicyChoice(index, ScriptOutput: answer);
    }

    public string Explain(BalanceDecision d) =>
        $"the custom script chose \"{d.ScriptOutput}\" among {d.OnlineCount} online nodes";

    /// <summary>RSTUDIO_NODES: the online candidates' entries, comma-separated, in node order.</summary>
    public static string NodesVariable(CandidateSet set, bool useIpAddress)
    {
        var entries = new List<string>(set.Count);
        foreach (var node in set.Nodes)
            if (node.Online) entries.Add(node.NodesEntry(useIpAddress));
        return string.Join(",", entries);
    }
}
