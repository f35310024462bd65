namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// What a policy is asked: which of these nodes gets a new session for this user. Only eligible nodes may be
/// chosen: online, not draining, and below the per-node session limit when there is one. <see cref="OnlineCount"/>
/// counts the eligible nodes (at least one).
/// </summary>
/// <param name="Cancel">The caller's stop signal, for a policy that waits (a custom script).</param>
public readonly record struct BalanceContext(CandidateSet Candidates, string UserName, bool UseIpAddress, int OnlineCount, int? MaxSessionsPerNode = null,
                                            CancellationToken Cancel = default)
{
    public bool IsEligible(NodeCandidate node) => IsEligible(node, MaxSessionsPerNode);

    public static bool IsEligible(NodeCandidate node, int? maxSessionsPerNode) =>
        Eligibility.WhyLeftOut(node.Online, node.Draining, node.ActiveSessions, maxSessionsPerNode) is null;
}

/// <summary>Options that hold for every policy: a per-node session limit (drained nodes are never chosen either).</summary>
public sealed record BalancingOptions
{
    public static readonly BalancingOptions None = new();
    /// <summary>A node with this many active sessions is full and skipped; null for no limit.</summary>
    public int? MaxSessionsPerNode { get; init; }
}

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
    /// <summary>
    /// The policy may take seconds (it runs a script): a placement decides with it before queueing for the
    /// database transaction, and only confirms the choice there.
    /// </summary>
    bool RunsOutsideTransaction => false;
    PolicyChoice Choose(in BalanceContext context, Span<double> scores);
}
