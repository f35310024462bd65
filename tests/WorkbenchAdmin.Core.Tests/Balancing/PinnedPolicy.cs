using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Tests.Balancing;

/// <summary>A test policy that always picks one node, to put sessions where a test wants them.</summary>
public sealed class CustomScriptPinned(string address) : IBalancingPolicy
{
    public string Name => "custom";

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        scores.Fill(double.NaN);
        return new PolicyChoice(context.Candidates.IndexOfEntry(address, false), ScriptOutput: address);
    }

    public string Explain(BalanceDecision decision) => $"pinned to {address}";
}
