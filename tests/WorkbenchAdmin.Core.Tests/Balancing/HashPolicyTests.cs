using System.Text;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Core.Tests.Balancing;

/// <summary>consistent-hash and bounded-hash: the weights, the churn when nodes come and go, the load cap.</summary>
public class HashPolicyTests
{
    private static readonly BalanceEngine Engine = new();
    private static readonly string[] Users = Enumerable.Range(0, 5000).Select(i => $"user{i:D4}").ToArray();

    private static NodeCandidate[] Nodes(int count, int firstNumber = 1) =>
        Enumerable.Range(firstNumber, count).Select(i => PolicyTests.Node($"node{i}.example.com")).ToArray();

    private static string Place(string method, string user, NodeCandidate[] nodes) =>
        Engine.Decide(BalancingPolicies.Create(method), user, new CandidateSet(nodes)).Node;

    private static double Moved(string method, NodeCandidate[] before, NodeCandidate[] after)
    {
        var moved = Users.Count(u => Place(method, u, before) != Place(method, u, after));
        return (double)moved / Users.Length;
    }

    [Fact]
    public void TheWeightIsCityHash64WithSeedOfTheEntryKeyedByTheUsersHash()
    {
        var nodes = Nodes(3);
        var d = Engine.Decide(BalancingPolicies.Create("consistent-hash"), "alice", new CandidateSet(nodes));
        var userHash = CityHash.CityHash64(Encoding.UTF8.GetBytes("alice"));
        var weights = nodes.Select(n => CityHash.CityHash64WithSeed(Encoding.UTF8.GetBytes(n.NodesEntry(false)), userHash)).ToArray();
        Assert.Equal(userHash, d.Hash);
        Assert.Equal(Array.IndexOf(weights, weights.Max()), d.ChosenIndex);
        Assert.Equal(weights.Select(w => w / 18446744073709551616.0), d.Candidates.Select(c => c.Score!.Value));
        Assert.Contains("highest rendezvous weight", d.Reason);
    }

    [Fact]
    public void AddingASixthNodeMovesAboutASixthOfTheUsersWithConsistentHashButMostWithUserHash()
    {
        var five = Nodes(5);
        var six = five.Append(PolicyTests.Node("node6.example.com")).ToArray();
        var consistent = Moved("consistent-hash", five, six);
        var modulo = Moved("user-hash", five, six);
        Assert.InRange(consistent, 1.0 / 6 - 0.03, 1.0 / 6 + 0.03); // the minimum: only what the new node wins
        Assert.InRange(modulo, 0.75, 0.90);                         // modulo 5 -> 6: about 5/6 move
    }

    [Fact]
    public void RemovingANodeMovesOnlyItsUsersWithConsistentHash()
    {
        var five = Nodes(5);
        var four = five.Where(n => n.Host != "node3.example.com").ToArray();
        foreach (var user in Users)
        {
            var before = Place("consistent-hash", user, five);
            if (before != "node3.example.com:8787") Assert.Equal(before, Place("consistent-hash", user, four));
        }
        Assert.InRange(Moved("consistent-hash", five, four), 0.2 - 0.03, 0.2 + 0.03);
        Assert.InRange(Moved("user-hash", five, four), 0.7, 0.9);
    }

    [Fact]
    public void ConsistentHashSpreadsUsersEvenly()
    {
        var counts = Users.GroupBy(u => Place("consistent-hash", u, Nodes(5))).Select(g => g.Count()).ToArray();
        Assert.Equal(5, counts.Length);
        Assert.All(counts, c => Assert.InRange(c, 1000 * 0.85, 1000 * 1.15));
    }

    [Theory]
    [InlineData(1.25)]
    [InlineData(1.1)]
    [InlineData(2.0)]
    public void BoundedHashNeverPutsANodeAboveItsCap(double factor)
    {
        var nodes = Nodes(4);
        var policy = BalancingPolicies.Create("bounded-hash", PolicyOptions.Default.With(BoundedHashPolicy.BalanceFactorOption, factor));
        // The same few heavy users come back again and again: pure hashing would pile them on their nodes.
        var arrivals = Enumerable.Range(0, 2000).Select(i => i % 3 == 0 ? $"heavy{i % 5}" : Users[i]);
        var placed = 0;
        foreach (var user in arrivals)
        {
            var d = Engine.Decide(policy, user, new CandidateSet(nodes));
            nodes[d.ChosenIndex].ActiveSessions++;
            placed++;
            var cap = Math.Ceiling(factor * placed / nodes.Length);
            Assert.All(nodes, n => Assert.True(n.ActiveSessions <= cap, $"{n.Host} has {n.ActiveSessions} > cap {cap} after {placed}"));
        }
    }

    [Fact]
    public void BoundedHashKeepsAUserOnTheirConsistentHashNodeWhileItIsWithinTheCap()
    {
        var nodes = Nodes(4);
        var bounded = BalancingPolicies.Create("bounded-hash");
        Assert.All(Users.Take(200), u =>
            Assert.Equal(Place("consistent-hash", u, nodes), Engine.Decide(bounded, u, new CandidateSet(nodes)).Node));
        var d = Engine.Decide(bounded, "alice", new CandidateSet(nodes));
        Assert.StartsWith("choice 1 of 4 in the user's rendezvous order", d.Reason);
    }

    [Fact]
    public void BoundedHashSpillsToTheNextChoiceWhenTheFirstIsAtTheCap()
    {
        var nodes = Nodes(4);
        var first = Place("consistent-hash", "alice", nodes);
        foreach (var n in nodes) n.ActiveSessions = n.NodesEntry(false) == first ? 13 : 10; // cap = ceil(1.25 * 44 / 4) = 14
        Assert.Equal(first, Engine.Decide(BalancingPolicies.Create("bounded-hash"), "alice", new CandidateSet(nodes)).Node);
        foreach (var n in nodes) if (n.NodesEntry(false) == first) n.ActiveSessions = 20;   // cap = ceil(1.25 * 51 / 4) = 16: over
        var d = Engine.Decide(BalancingPolicies.Create("bounded-hash"), "alice", new CandidateSet(nodes));
        Assert.NotEqual(first, d.Node);
        Assert.StartsWith("choice 2 of 4", d.Reason);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(double.NaN)]
    [InlineData(1000)]
    public void BoundedHashRefusesAFactorThatCannotBound(double factor)
    {
        var e = Assert.Throws<WbException>(() => BalancingPolicies.Create("bounded-hash", PolicyOptions.Default.With(BoundedHashPolicy.BalanceFactorOption, factor)));
        Assert.Equal(("InvalidBalanceFactor", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
    }

    [Fact]
    public void TheRegistryNamesEveryPolicyAndRefusesOthers()
    {
        Assert.Equal(["sessions", "system-load", "user-hash", "custom", "consistent-hash", "bounded-hash"], BalancingPolicies.Names);
        Assert.All(BalancingPolicies.Names.Where(n => n != "custom"), n => Assert.Equal(n, BalancingPolicies.Create(n.ToUpperInvariant()).Name));
        Assert.Equal("InvalidBalancingMethod", Assert.Throws<WbException>(() => BalancingPolicies.Create("round-robin")).ErrorId);
    }
}
