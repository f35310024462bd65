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
                                  BalancingOptions? options = null)
    {
        var start = _time.GetTimestamp();
        ValidateUserName(userName);
        var max = options?.MaxSessionsPerNode;
        var (online, eligible, draining, full) = Count(candidates, max);
        if (eligible == 0) throw NoNode(userName, candidates.Count, online, draining, full, max);

        // Scores on the stack (heap only for very large sets); the decision keeps a copy of what it saw.
        var count = candidates.Count;
        var scores = count <= 256 ? stackalloc double[count] : new double[count];
        var context = new BalanceContext(candidates, userName, useIpAddress, eligible, max);
        var choice = policy.Choose(context, scores);
        if ((uint)choice.Index >= (uint)count || !context.IsEligible(candidates[choice.Index]))
            throw new InvalidOperationException($"The {policy.Name} policy chose no eligible node (index {choice.Index}).");
        var snapshot = new CandidateScore[count];
        var nodes = candidates.Nodes;
        for (var i = 0; i < snapshot.Length; i++)
        {
            var n = nodes[i];
            snapshot[i] = new CandidateScore(n.Id, n.NodesEntry(false), n.Online, n.ActiveSessions, n.Load5, n.Cores,
                                             double.IsNaN(scores[i]) ? null : scores[i], i == choice.Index, n.Draining);
        }
        return new BalanceDecision(policy.Name, userName, snapshot, choice.Index, eligible, candidates[choice.Index].NodesEntry(useIpAddress),
                                   useIpAddress, choice.Hash, choice.ScriptOutput, _time.GetElapsedTime(start), policy, max);
    }

    private static (int Online, int Eligible, int Draining, int Full) Count(CandidateSet candidates, int? max)
    {
        int online = 0, eligible = 0, draining = 0, full = 0;
        foreach (var n in candidates.Nodes)
        {
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
        if (count == 0) return new("NoCandidateNode", WbErrorCategory.ResourceUnavailable, $"{who}: there are no candidates.", userName);
        if (online == 0) return new("NoCandidateNode", WbErrorCategory.ResourceUnavailable, $"{who}: none of the {count} nodes is online.", userName);
        if (full > 0)
            return new("AllNodesFull", WbErrorCategory.LimitsExceeded,
                $"{who}: every online node that is not draining has {max} sessions, the most a node may have (MaxSessionsPerNode); " +
                $"{full} full, {draining} draining. Nothing was overloaded: raise the limit, add a node, or resume a drained one.", userName);
        return new("AllNodesDraining", WbErrorCategory.ResourceUnavailable,
            $"{who}: all {draining} online nodes are draining (Resume-WbNode takes one back).", userName);
    }

    internal static void ValidateUserName(string userName)
    {
        if (!IsPlausibleUserName(userName))
            throw new WbException("InvalidUserName", WbErrorCategory.InvalidArgument,
                $"-UserName '{SafeText.Quote(userName ?? "")}' is not a user name (empty, surrounding white space, control characters, or malformed UTF-16: a lone surrogate).", userName);
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
