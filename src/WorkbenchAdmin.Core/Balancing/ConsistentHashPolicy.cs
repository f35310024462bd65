using System.Globalization;
using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// <c>consistent-hash</c> (ours): rendezvous, or highest-random-weight, hashing. Each eligible node weighs
/// the user with CityHash64WithSeed(node entry, CityHash64(user name)); the heaviest wins. A node joining or
/// leaving moves only the users it wins or held (about 1/N of them), where user-hash's modulo moves about
/// (N-1)/N. The score of each node is its weight scaled to [0, 1).
/// </summary>
public sealed class ConsistentHashPolicy : IBalancingPolicy
{
    public const string PolicyName = "consistent-hash";
    public static readonly ConsistentHashPolicy Instance = new();
    public string Name => PolicyName;
    public static IBalancingPolicy Create(PolicyOptions options) => Instance;

    public PolicyChoice Choose(in BalanceContext context, Span<double> scores)
    {
        var set = context.Candidates;
        var userHash = UserNameHash.Compute(context.UserName);
        var entries = set.EntryHashes(context.UseIpAddress);
        var best = -1;
        var bestWeight = 0UL;
        for (var i = 0; i < set.Count; i++)
        {
            if (!context.IsEligible(set[i])) { scores[i] = double.NaN; continue; }
            var weight = Weight(entries[i], userHash);
            scores[i] = Scale(weight);
            if (best < 0 || weight > bestWeight) (best, bestWeight) = (i, weight);
        }
        return new PolicyChoice(best, Hash: userHash);
    }

    /// <summary>The node's rendezvous weight for a user: CityHash64WithSeed(entry, CityHash64(user)).</summary>
    internal static ulong Weight(ulong entryHash, ulong userHash) => CityHash.WithSeed(entryHash, userHash);

    internal static double Scale(ulong weight) => weight / 18446744073709551616.0;

    public string Explain(BalanceDecision d) => string.Format(CultureInfo.InvariantCulture,
        "highest rendezvous weight {0:0.####} of {1} eligible nodes (CityHash64WithSeed(node, CityHash64(\"{2}\") = 0x{3:x16}))",
        d.Chosen.Score, d.OnlineCount, d.UserName, d.Hash);
}
