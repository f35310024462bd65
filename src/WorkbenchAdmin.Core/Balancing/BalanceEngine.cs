using WorkbenchAdmin.Core.Balancing.Custom;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>Picks the policy for a method name. Unknown names are an error, never a default.</summary>
public static class BalancingPolicies
{
    public static IBalancingPolicy Create(string method, BalancerScriptOptions? customScript = null)
    {
        return BalancingMethods.Normalize(method) switch
        {
            BalancingMethods.Sessions => SessionsPolicy.Instance,
            BalancingMethods.SystemLoad => SystemLoadPolicy.Instance,
            BalancingMethods.UserHash => UserHashPolicy.Instance,
            BalancingMethods.Custom => new CustomScriptPolicy(customScript ?? new BalancerScriptOptions(Configuration.LoadBalancerConfig.DefaultCustomScript)),
            var known => throw new InvalidOperationException($"No policy for the balancing method '{known}'."),
        };
    }
}

/// <summary>
/// Makes balancing decisions: validates the request, asks the policy, times it, and returns an
/// explainable <see cref="BalanceDecision"/>. Time comes from an injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class BalanceEngine(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public BalanceDecision Decide(IBalancingPolicy policy, string userName, CandidateSet candidates, bool useIpAddress = false)
    {
        var start = _time.GetTimestamp();
        ValidateUserName(userName);
        var online = candidates.OnlineCount();
        if (online == 0)
            throw new WbException("NoCandidateNode", WbErrorCategory.ResourceUnavailable,
                candidates.Count == 0
                    ? $"No node to place a session for '{userName}' on: there are no candidates."
                    : $"No node to place a session for '{userName}' on: none of the {candidates.Count} nodes is online.", userName);

        // Scores on the stack (heap only for very large sets); the decision keeps a copy of what it saw.
        var count = candidates.Count;
        var scores = count <= 256 ? stackalloc double[count] : new double[count];
        var choice = policy.Choose(new BalanceContext(candidates, userName, useIpAddress, online), scores);
        if ((uint)choice.Index >= (uint)count || !candidates[choice.Index].Online)
            throw new InvalidOperationException($"The {policy.Name} policy chose no online node (index {choice.Index}).");
        var snapshot = new CandidateScore[count];
        var nodes = candidates.Nodes;
        for (var i = 0; i < snapshot.Length; i++)
        {
            var n = nodes[i];
            snapshot[i] = new CandidateScore(n.Id, n.NodesEntry(false), n.Online, n.ActiveSessions, n.Load5, n.Cores,
                                             double.IsNaN(scores[i]) ? null : scores[i], i == choice.Index);
        }
        return new BalanceDecision(policy.Name, userName, snapshot, choice.Index, online, candidates[choice.Index].NodesEntry(useIpAddress),
                                   useIpAddress, choice.Hash, choice.ScriptOutput, _time.GetElapsedTime(start), policy);
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
