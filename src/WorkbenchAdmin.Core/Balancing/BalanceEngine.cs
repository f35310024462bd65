namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// Makes balancing decisions: validates the request, asks the policy, times it, and returns an
/// explainable <see cref="BalanceDecision"/>. Drained and full nodes are left out for every policy.
/// Time comes from an injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class BalanceEngine(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public BalanceDecision Decide(IBalancingPolicy policy, string userName, CandidateSet candidates, bool useIpAddress = false,
                                  BalancingOptions? options = null, CancellationToken cancel = default)
    {
        var start = _time.GetTimestamp();
        ValidateUserName(userName);
        var max = options?.MaxSessionsPerNode;
        var count = candidates.Count;
        // The decision's snapshot, taken in the same pass that counts the eligible nodes: one blittable array of
        // facts and one of scores (the policy writes into it), whatever the number of candidates.
        var facts = new CandidateFacts[count];
        var (online, eligible, draining, full) = Snapshot(candidates, max, facts);
        if (eligible == 0) throw NoNode(userName, count, online, draining, full, max);

        var scores = new double[count];
        var context = new BalanceContext(candidates, userName, useIpAddress, eligible, max, cancel);
        var choice = policy.Choose(context, scores);
        if ((uint)choice.Index >= (uint)count || !context.IsEligible(candidates[choice.Index]))
            throw new InvalidOperationException($"The {policy.Name} policy chose no eligible node (index {choice.Index}).");
        return new BalanceDecision(policy.Name, userName, candidates.HostEntries, facts, scores, choice.Index, eligible,
                                   useIpAddress ? candidates[choice.Index].NodesEntry(true) : candidates.HostEntries[choice.Index],
                                   useIpAddress, choice.Hash, choice.ScriptOutput, _time.GetElapsedTime(start), policy, max);
    }

    private static (int Online, int Eligible, int Draining, int Full) Snapshot(CandidateSet candidates, int? max, CandidateFacts[] facts)
    {
        int online = 0, eligible = 0, draining = 0, full = 0;
        var nodes = candidates.Nodes;
        for (var i = 0; i < nodes.Length; i++)
        {
            var n = nodes[i];
            facts[i] = new CandidateFacts(n);
            switch (Eligibility.WhyLeftOut(n.Online, n.Draining, n.ActiveSessions, max))
            {
                case null: online++; eligible++; break;
                case Eligibility.Draining: online++; draining++; break;
                case Eligibility.Full: online++; full++; break;
            }
        }
        return (online, eligible, draining, full);
    }

    /// <summary>Why no node can take the session: none online, all draining, or every one that is not draining full.</summary>
    private static WbException NoNode(string userName, int count, int online, int draining, int full, int? max)
    {
        var who = $"No node to place a session for '{userName}' on";
        if (count == 0) return new(WbErrorIds.NoCandidateNode, WbErrorCategory.ResourceUnavailable, $"{who}: there are no candidates.", userName);
        if (online == 0) return new(WbErrorIds.NoCandidateNode, WbErrorCategory.ResourceUnavailable, $"{who}: none of the {count} nodes is online.", userName);
        if (full > 0)
            return new(WbErrorIds.AllNodesFull, WbErrorCategory.LimitsExceeded,
                $"{who}: every online node that is not draining has {max} sessions, the most a node may have (MaxSessionsPerNode); " +
                $"{full} full, {draining} draining. Nothing was overloaded: raise the limit, add a node, or resume a drained one.", userName);
        return new(WbErrorIds.AllNodesDraining, WbErrorCategory.ResourceUnavailable,
            $"{who}: all {draining} online nodes are draining (Resume-WbNode takes one back).", userName);
    }

    /// <param name="source">Where the name came from, for the message (a parameter, or RSTUDIO_USERNAME).</param>
    internal static void ValidateUserName(string userName, string source = "-UserName")
    {
        if (!IsPlausibleUserName(userName))
            throw new WbException(WbErrorIds.InvalidUserName, WbErrorCategory.InvalidArgument,
                $"{source} '{SafeText.Quote(userName ?? "")}' is not a user name (empty, surrounding white space, control characters, or malformed UTF-16: a lone surrogate).", userName);
    }

    /// <summary>
    /// Non-empty, no surrounding white space, no control characters, and well-formed UTF-16 (a lone surrogate has no
    /// UTF-8 form: it could be neither hashed nor stored). A plain loop: this runs on every decision.
    /// </summary>
    private static bool IsPlausibleUserName(string? name)
    {
        if (string.IsNullOrEmpty(name) || char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1])) return false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsControl(c) || char.IsLowSurrogate(c)) return false;
            if (char.IsHighSurrogate(c) && (++i == name.Length || !char.IsLowSurrogate(name[i]))) return false;
        }
        return true;
    }
}
