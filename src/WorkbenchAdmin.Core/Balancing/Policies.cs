using System.Globalization;
using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary><c>sessions</c>: fewest active sessions; ties go to the lower load per core, then node order (our choice).</summary>
public sealed class SessionsPolicy : IBalancingPolicy
{
    public static readonly SessionsPolicy Instance = new();
    public string Name => BalancingMethods.Sessions;
    public static IBalancingPolicy Create(PolicyOptions options) => Instance;

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var nodes = context.Candidates.Nodes;
        var best = -1;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (!context.IsEligible(node)) { scores[i] = double.NaN; continue; }
            scores[i] = node.ActiveSessions;
            if (best < 0 || node.ActiveSessions < nodes[best].ActiveSessions ||
                (node.ActiveSessions == nodes[best].ActiveSessions && TieLoad(node) < TieLoad(nodes[best])))
                best = i;
        }
        return new PolicyChoice(best);
    }

    public string Explain(BalanceDecision d) => string.Format(CultureInfo.InvariantCulture,
        "fewest active sessions: {0} ({1} of {2} nodes online; ties go to the lower load, then node order)",
        d.Chosen.ActiveSessions, d.OnlineCount, d.Candidates.Count);

    /// <summary>Load per core where cores are known, the raw 5-minute load otherwise.</summary>
    private static double TieLoad(NodeCandidate n) => n.Cores is > 0 ? n.Load5 / n.Cores.Value : n.Load5;
}

/// <summary><c>system-load</c>: lowest 5-minute load average per core; ties go to fewer sessions, then node order (our choice).</summary>
public sealed class SystemLoadPolicy : IBalancingPolicy
{
    public static readonly SystemLoadPolicy Instance = new();
    public string Name => BalancingMethods.SystemLoad;
    public static IBalancingPolicy Create(PolicyOptions options) => Instance;

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var nodes = context.Candidates.Nodes;
        var best = -1;
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            if (!context.IsEligible(node)) { scores[i] = double.NaN; continue; }
            if (node.Cores is not > 0)
                throw new WbException("UnknownNodeCores", WbErrorCategory.InvalidData,
                    $"system-load cannot judge node '{node.NodesEntry(false)}': its number of cores is {(node.Cores is null ? "unknown" : node.Cores.Value.ToString())}.", node);
            if (!double.IsFinite(node.Load5) || node.Load5 < 0)
                throw new WbException("InvalidNodeLoad", WbErrorCategory.InvalidData,
                    $"system-load cannot judge node '{node.NodesEntry(false)}': its 5-minute load is {node.Load5}.", node);
            var score = node.Load5 / node.Cores.Value;
            scores[i] = score;
            if (best < 0 || score < scores[best] || (score == scores[best] && node.ActiveSessions < nodes[best].ActiveSessions))
                best = i;
        }
        return new PolicyChoice(best);
    }

    public string Explain(BalanceDecision d) => string.Format(CultureInfo.InvariantCulture,
        "lowest 5-minute load per core: {0:0.###} ({1:0.###} / {2} cores; {3} of {4} nodes online)",
        d.Chosen.Score, d.Chosen.Load5, d.Chosen.Cores, d.OnlineCount, d.Candidates.Count);
}

/// <summary>
/// <c>user-hash</c>: CityHash64 of the user name's UTF-8 bytes, modulo the number of online candidates,
/// over the online candidates sorted by their RSTUDIO_NODES entry (ordinal, our choice). The score of each
/// online node is its position in that order.
/// </summary>
public sealed class UserHashPolicy : IBalancingPolicy
{
    public static readonly UserHashPolicy Instance = new();
    public string Name => BalancingMethods.UserHash;
    public static IBalancingPolicy Create(PolicyOptions options) => Instance;

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var set = context.Candidates;
        var hash = UserNameHash.Compute(context.UserName);
        var target = (int)(hash % (ulong)context.OnlineCount);
        var chosen = -1;
        var rank = 0;
        foreach (var i in set.StableOrder(context.UseIpAddress))
        {
            if (!context.IsEligible(set[i])) { scores[i] = double.NaN; continue; }
            scores[i] = rank;
            if (rank == target) chosen = i;
            rank++;
        }
        return new PolicyChoice(chosen, Hash: hash);
    }

    public string Explain(BalanceDecision d)
    {
        var rank = (int)(d.Chosen.Score ?? 0);
        return string.Format(CultureInfo.InvariantCulture,
            "CityHash64(\"{0}\") = 0x{1:x16}; mod {2} online = {3}: entry {4} of the online nodes in RSTUDIO_NODES order",
            d.UserName, d.Hash, d.OnlineCount, rank, rank + 1);
    }
}
