using System.Globalization;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>Which users run sessions on which node (by the node's <c>host:port</c>), read from a status page or the store.</summary>
public sealed class UserSessions
{
    public static readonly UserSessions None = new([]);
    private readonly Dictionary<string, Dictionary<string, int>> _byUser;

    private UserSessions(Dictionary<string, Dictionary<string, int>> byUser) => _byUser = byUser;

    public static UserSessions From(IEnumerable<NodeSessionLoad> nodes)
    {
        var byUser = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var node in nodes)
            foreach (var session in node.Sessions)
            {
                if (!byUser.TryGetValue(session.UserName, out var perNode)) byUser[session.UserName] = perNode = new(StringComparer.Ordinal);
                perNode[node.Address] = perNode.GetValueOrDefault(node.Address) + 1;
            }
        return new UserSessions(byUser);
    }

    /// <summary>The user's running sessions on the node whose host:port is <paramref name="address"/>.</summary>
    public int Count(string userName, string address) =>
        _byUser.TryGetValue(userName, out var perNode) ? perNode.GetValueOrDefault(address) : 0;
}

/// <summary>
/// The sticky option, valid for every policy: a user who already runs sessions on an eligible node gets the
/// next one there too (the node holding most of theirs; ties go to fewer sessions, then node order, our
/// choice). Otherwise the wrapped policy decides. Eligibility is the engine's, so stickiness never takes a
/// user to a drained or full node. Built by <see cref="BalancingPolicies.Create"/> when asked for stickiness.
/// </summary>
public sealed class StickyPolicy : IBalancingPolicy
{
    private readonly IBalancingPolicy inner;
    private readonly UserSessions sessions;

    internal StickyPolicy(IBalancingPolicy inner, UserSessions sessions) => (this.inner, this.sessions) = (inner, sessions);

    public string Name => inner.Name;
    public bool RunsOutsideTransaction => inner.RunsOutsideTransaction;

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        // The wrapped policy always runs: its scores explain the decision either way.
        var choice = inner.Choose(context, scores);
        var set = context.Candidates;
        var max = context.MaxSessionsPerNode;
        var home = Home(context.UserName, set.Count, i => set[i].NodesEntry(false), i => set[i].ActiveSessions,
                        i => BalanceContext.IsEligible(set[i], max));
        return home < 0 ? choice : choice with { Index = home };
    }

    public string Explain(BalanceDecision d)
    {
        var c = d.Candidates;
        var home = Home(d.UserName, c.Count, i => c[i].Node, i => c[i].ActiveSessions,
                        i => Eligibility.WhyLeftOut(c[i].Online, c[i].Draining, c[i].ActiveSessions, d.MaxSessionsPerNode) is null);
        if (home != d.ChosenIndex) return inner.Explain(d);
        var mine = sessions.Count(d.UserName, d.Chosen.Node);
        return string.Format(CultureInfo.InvariantCulture, "sticky: {0} already runs {1} session{2} on this node ({3} decides for users with none)",
                             d.UserName, mine, mine == 1 ? "" : "s", inner.Name);
    }

    private int Home(string user, int count, Func<int, string> address, Func<int, int> active, Func<int, bool> eligible)
    {
        int best = -1, bestMine = 0;
        for (var i = 0; i < count; i++)
        {
            var mine = sessions.Count(user, address(i));
            if (mine == 0 || !eligible(i)) continue;
            if (best < 0 || mine > bestMine || (mine == bestMine && active(i) < active(best))) (best, bestMine) = (i, mine);
        }
        return best;
    }
}
