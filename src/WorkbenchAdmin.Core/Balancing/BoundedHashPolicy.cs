using System.Globalization;
using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// <c>bounded-hash</c> (ours): consistent hashing with bounded loads, as HAProxy's hash-balance-factor. The
/// user goes to the first node in its rendezvous order (see <see cref="ConsistentHashPolicy"/>) that stays
/// within the cap: ceil(factor × (sessions on the eligible nodes + 1) / eligible nodes). With a factor above
/// 1 such a node always exists, and no node ever goes above the cap. Users keep their node until it is
/// loaded past the cap, then spill to their next choice.
/// </summary>
public sealed class BoundedHashPolicy(double balanceFactor) : IBalancingPolicy
{
    public const string PolicyName = "bounded-hash";
    public string Name => PolicyName;
    public double BalanceFactor { get; } = balanceFactor;

    /// <summary>No node above this factor × the average: above 1 (at 1 or below no node could take the next session), at most 100.</summary>
    public static readonly PolicyOption<double> BalanceFactorOption = PolicyOptionKinds.Number(
        "BalanceFactor", "balance-factor", "InvalidBalanceFactor",
        "must be a number above 1 and at most 100 (1.25: no node above 125% of the average)", 1.25, f => f > 1 && f <= 100);

    public static IReadOnlyList<PolicyOption> Options { get; } = [BalanceFactorOption];

    public static IBalancingPolicy Create(PolicyOptions options) => new BoundedHashPolicy(options.Get(BalanceFactorOption));

    /// <summary>The most sessions a node may have after this placement.</summary>
    public static int Cap(double factor, int eligibleSessions, int eligibleNodes) =>
        (int)Math.Ceiling(factor * (eligibleSessions + 1) / eligibleNodes);

    /// <remarks>
    /// The first node in the user's rendezvous order within the cap is the heaviest node within the cap: two
    /// passes (the cap needs every eligible node's sessions), no sort.
    /// </remarks>
    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var set = context.Candidates;
        var n = set.Count;
        var eligible = 0;
        var sessions = 0;
        for (var i = 0; i < n; i++)
        {
            if (!context.IsEligible(set[i])) continue;
            eligible++;
            sessions += set[i].ActiveSessions;
        }
        var cap = Cap(BalanceFactor, sessions, eligible);
        var userHash = UserNameHash.Compute(context.UserName);
        var entries = set.EntryHashes(context.UseIpAddress);
        var best = -1;
        var bestWeight = 0UL;
        for (var i = 0; i < n; i++)
        {
            var node = set[i];
            if (!context.IsEligible(node)) { scores[i] = double.NaN; continue; }
            var weight = ConsistentHashPolicy.Weight(entries[i], userHash);
            scores[i] = ConsistentHashPolicy.Scale(weight);
            if (node.ActiveSessions + 1 <= cap && (best < 0 || weight > bestWeight)) (best, bestWeight) = (i, weight);
        }
        if (best < 0) throw new InvalidOperationException("bounded-hash found no node under its cap; a factor above 1 guarantees one.");
        return new PolicyChoice(best, Hash: userHash);
    }

    public string Explain(BalanceDecision d)
    {
        var eligible = d.Candidates.Where(c => c.Score is not null).ToList();
        var choice = eligible.Count(c => c.Score > d.Chosen.Score) + 1;
        var cap = Cap(BalanceFactor, eligible.Sum(c => c.ActiveSessions), eligible.Count);
        return string.Format(CultureInfo.InvariantCulture,
            "choice {0} of {1} in the user's rendezvous order (CityHash64(\"{2}\") = 0x{3:x16}): {4} sessions, within the cap of {5} ({6} × the average)",
            choice, eligible.Count, d.UserName, d.Hash, d.Chosen.ActiveSessions, cap, BalanceFactor);
    }
}
