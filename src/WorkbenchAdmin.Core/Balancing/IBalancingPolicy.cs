namespace WorkbenchAdmin.Core.Balancing;

/// <summary>What a policy is asked: which of these nodes gets a new session for this user.</summary>
public readonly record struct BalanceContext(CandidateSet Candidates, string UserName, bool UseIpAddress, int OnlineCount);

/// <summary>The node a policy chose (index in set order), plus what its reason needs.</summary>
public readonly record struct PolicyChoice(int Index, ulong? Hash = null, string? ScriptOutput = null);

/// <summary>
/// One balancing method. A policy fills <c>scores</c> (one per candidate in set order; NaN for nodes it
/// did not judge, such as offline ones) and returns its choice. It is only called with at least one
/// online candidate. Implementations are small, sealed and stateless apart from their configuration, and
/// explain their own decisions from the decision's snapshot alone.
/// </summary>
public interface IBalancingPolicy : IDecisionExplainer
{
    string Name { get; }
    PolicyChoice Choose(in BalanceContext context, Span<double> scores);
}
