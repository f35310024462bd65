using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Core.Tests.Balancing;

public class PolicyTests
{
    private static readonly BalanceEngine Engine = new();

    internal static NodeCandidate Node(string host, int sessions = 0, double load5 = 0, int? cores = 4, bool online = true, int port = 8787, string? ip = null) =>
        new() { Host = host, Port = port, ActiveSessions = sessions, Load5 = load5, Cores = cores, Online = online, IPv4Address = ip };

    private static BalanceDecision Decide(string method, string user, params NodeCandidate[] nodes) =>
        Engine.Decide(BalancingPolicies.Create(method), user, new CandidateSet(nodes));

    [Fact]
    public void SessionsPicksTheFewestActiveSessions()
    {
        var d = Decide("sessions", "alice", Node("a", 5), Node("b", 2), Node("c", 7));
        Assert.Equal("b:8787", d.Node);
        Assert.Equal([5.0, 2.0, 7.0], d.Candidates.Select(c => c.Score!.Value));
        Assert.Contains("fewest active sessions: 2", d.Reason);
        Assert.True(d.Candidates[1].Chosen);
    }

    [Fact]
    public void SessionsTiesGoToTheLowerLoadPerCoreThenNodeOrder()
    {
        Assert.Equal("b:8787", Decide("sessions", "u", Node("a", 3, load5: 4, cores: 4), Node("b", 3, load5: 4, cores: 8), Node("c", 9)).Node);
        Assert.Equal("a:8787", Decide("sessions", "u", Node("a", 3, 1), Node("b", 3, 1), Node("c", 3, 1)).Node);
        Assert.Equal("c:8787", Decide("sessions", "u", Node("a", 3, 2), Node("b", 3, 2), Node("c", 3, 1)).Node);
    }

    [Fact]
    public void SystemLoadPicksTheLowestFiveMinuteLoadPerCore()
    {
        // b has the highest raw load but the most cores.
        var d = Decide("system-load", "alice", Node("a", load5: 2.0, cores: 2), Node("b", load5: 3.0, cores: 16), Node("c", load5: 0.5, cores: 1));
        Assert.Equal("b:8787", d.Node);
        Assert.Equal(3.0 / 16, d.Candidates[1].Score);
        Assert.Contains("0.188 (3 / 16 cores", d.Reason);
    }

    [Fact]
    public void SystemLoadTiesGoToFewerSessionsThenNodeOrder()
    {
        Assert.Equal("b:8787", Decide("system-load", "u", Node("a", 4, 1, 2), Node("b", 1, 2, 4), Node("c", 1, 2, 4)).Node);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    public void SystemLoadRefusesANodeWithUnknownCores(int? cores)
    {
        var e = Assert.Throws<WbException>(() => Decide("system-load", "u", Node("a", load5: 1), Node("b", load5: 1, cores: cores)));
        Assert.Equal(("UnknownNodeCores", WbErrorCategory.InvalidData), (e.ErrorId, e.Category));
        Assert.Contains("'b:8787'", e.Message);
    }

    [Fact]
    public void SystemLoadIgnoresUnknownCoresOnOfflineNodes()
    {
        Assert.Equal("a:8787", Decide("system-load", "u", Node("a", load5: 1), Node("b", cores: null, online: false)).Node);
    }

    [Fact]
    public void UserHashIsCityHashModuloOnlineCountOverTheSortedEntries()
    {
        // Given in an order that is not sorted, so the stable order matters.
        var nodes = new[] { Node("node-c"), Node("node-a"), Node("node-b") };
        foreach (var user in new[] { "alice", "bob", "carol", "josé", "名前", "user.with.dots" })
        {
            var d = Decide("user-hash", user, nodes);
            var sorted = new[] { "node-a:8787", "node-b:8787", "node-c:8787" };
            var expected = sorted[(int)(UserNameHash.Compute(user) % 3)];
            Assert.Equal(expected, d.Node);
            Assert.Equal(UserNameHash.Compute(user), d.Hash);
            Assert.Contains($"0x{d.Hash:x16}; mod 3 online", d.Reason);
        }
    }

    [Fact]
    public void UserHashIsStableWhateverTheInputOrder()
    {
        var a = new[] { Node("n1"), Node("n2"), Node("n3"), Node("n4") };
        var b = a.Reverse().Select(n => Node(n.Host)).ToArray();
        for (var i = 0; i < 200; i++)
            Assert.Equal(Decide("user-hash", $"user{i}", a).Node, Decide("user-hash", $"user{i}", b).Node);
    }

    [Fact]
    public void UserHashSkipsOfflineNodesInTheModulus()
    {
        var nodes = new[] { Node("n1"), Node("n2", online: false), Node("n3"), Node("n4") };
        var d = Decide("user-hash", "alice", nodes);
        var online = new[] { "n1:8787", "n3:8787", "n4:8787" };
        Assert.Equal(online[(int)(UserNameHash.Compute("alice") % 3)], d.Node);
        Assert.Null(d.Candidates[1].Score);
    }

    [Fact]
    public void UserHashSpreadsUsersEvenly()
    {
        var nodes = Enumerable.Range(1, 4).Select(i => Node($"node{i}")).ToArray();
        var counts = Enumerable.Range(0, 4000).Select(i => Decide("user-hash", $"user{i:D4}", nodes).Node)
            .GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void UserHashWithIpAddressesSortsByAddressEntry()
    {
        var nodes = new[] { Node("zeta", ip: "10.0.0.1"), Node("alpha", ip: "10.0.0.2") };
        var set = new CandidateSet(nodes);
        Assert.Equal([0, 1], set.StableOrder(useIpAddress: true).ToArray());
        Assert.Equal([1, 0], set.StableOrder(useIpAddress: false).ToArray());
        var d = Engine.Decide(UserHashPolicy.Instance, "bob", set, useIpAddress: true);
        Assert.Equal(new[] { "10.0.0.1:8787", "10.0.0.2:8787" }[(int)(UserNameHash.Compute("bob") % 2)], d.Node);
    }

    [Theory]
    [InlineData("sessions")]
    [InlineData("system-load")]
    [InlineData("user-hash")]
    public void OneOnlineNodeIsAlwaysChosen(string method)
    {
        var d = Decide(method, "alice", Node("down1", online: false), Node("up", 50, 9, 1), Node("down2", online: false));
        Assert.Equal("up:8787", d.Node);
        Assert.Equal([false, true, false], d.Candidates.Select(c => c.Chosen));
    }

    [Theory]
    [InlineData("sessions")]
    [InlineData("system-load")]
    [InlineData("user-hash")]
    [InlineData("custom")]
    public void NoOnlineCandidateIsResourceUnavailable(string method)
    {
        var e = Assert.Throws<WbException>(() => Decide(method, "alice", Node("a", online: false), Node("b", online: false)));
        Assert.Equal(("NoCandidateNode", WbErrorCategory.ResourceUnavailable), (e.ErrorId, e.Category));
        Assert.Contains("none of the 2 nodes is online", e.Message);
        var empty = Assert.Throws<WbException>(() => Decide(method, "alice"));
        Assert.Equal("NoCandidateNode", empty.ErrorId);
    }

    [Fact]
    public void DecisionsAreDeterministic()
    {
        var nodes = Enumerable.Range(0, 16).Select(i => Node($"n{i}", i % 3, (i * 7) % 5, 4)).ToArray();
        foreach (var method in new[] { "sessions", "system-load", "user-hash" })
        {
            var first = Decide(method, "alice", nodes);
            for (var i = 0; i < 5; i++) Assert.Equal(first.Node, Decide(method, "alice", nodes).Node);
        }
    }

    [Theory]
    [InlineData("round-robin")]
    [InlineData("")]
    public void UnknownMethodIsInvalidArgument(string method)
    {
        var e = Assert.Throws<WbException>(() => BalancingPolicies.Create(method));
        Assert.Equal(("InvalidBalancingMethod", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains("sessions, system-load, user-hash, custom", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" alice")]
    [InlineData("al\nice")]
    public void BadUserNamesAreRejected(string user)
    {
        var e = Assert.Throws<WbException>(() => Decide("sessions", user, Node("a")));
        Assert.Equal("InvalidUserName", e.ErrorId);
    }

    [Fact]
    public void ElapsedComesFromTheInjectedClock()
    {
        var clock = new SteppingTimeProvider(TimeSpan.FromMilliseconds(3));
        var d = new BalanceEngine(clock).Decide(SessionsPolicy.Instance, "alice", new CandidateSet([Node("a")]));
        Assert.Equal(TimeSpan.FromMilliseconds(3), d.Elapsed);
    }

    [Fact]
    public void DuplicateNodesAreRejected()
    {
        var e = Assert.Throws<WbException>(() => new CandidateSet([Node("a"), Node("b"), Node("a")]));
        Assert.Equal("DuplicateNode", e.ErrorId);
    }

    [Fact]
    public void TheStableOrderIsOrdinalWhateverTheNamesShareAndDuplicatesAreFoundAnywhere()
    {
        // Long shared prefixes, names that tie on the four characters the sort keys on, prefixes of one another,
        // characters above ASCII, sets below and above the stack-buffer size, in and out of order.
        var random = new Random(11);
        string[] stems = ["", "n", "node", "rsw-prod-", "rsw-prod-0", "é", "ab\uffff"];
        foreach (var size in new[] { 1, 2, 3, 17, 64, 65, 300 })
            for (var round = 0; round < 5; round++)
            {
                var stem = stems[random.Next(stems.Length)];
                var names = new HashSet<string>(StringComparer.Ordinal);
                while (names.Count < size)
                    names.Add(stem + new string(Enumerable.Range(0, random.Next(1, 7)).Select(_ => "ab.0Z\u00e9\u4e00"[random.Next(7)]).ToArray()));
                var hosts = names.ToArray();
                if (round % 2 == 0) Array.Sort(hosts, StringComparer.Ordinal); else random.Shuffle(hosts);
                var set = new CandidateSet(hosts.Select(h => Node(h)));
                var expected = Enumerable.Range(0, hosts.Length).OrderBy(i => set[i].NodesEntry(false), StringComparer.Ordinal).ToArray();
                Assert.Equal(expected, set.StableOrder(useIpAddress: false).ToArray());

                var twice = hosts.Append(hosts[random.Next(hosts.Length)]).ToArray();
                random.Shuffle(twice);
                Assert.Equal("DuplicateNode", Assert.Throws<WbException>(() => new CandidateSet(twice.Select(h => Node(h)))).ErrorId);
            }
    }

    [Theory]
    [InlineData("node1.example.com:8787", "node1.example.com", 8787, null)]
    [InlineData("node1", "node1", 8787, null)]
    [InlineData("10.0.0.5:443", "10.0.0.5", 443, "10.0.0.5")]
    [InlineData("[fe80::1]:8787", "fe80::1", 8787, null)]
    public void NodesParseFromHostPort(string text, string host, int port, string? ip)
    {
        var n = NodeCandidate.Parse(text);
        Assert.Equal((host, port, ip, true), (n.Host, n.Port, n.IPv4Address, n.Online));
        Assert.Equal(text.Contains(':') ? text : text + ":8787", n.NodesEntry(false));
    }

    [Theory]
    [InlineData("")]
    [InlineData("host:0")]
    [InlineData("host:http")]
    [InlineData("a,b:1")]
    [InlineData("has space:1")]
    public void BadNodesAreInvalidArgument(string text)
    {
        var e = Assert.Throws<WbException>(() => NodeCandidate.Parse(text));
        Assert.Equal(("InvalidNode", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
    }

    /// <summary>Each timestamp read advances by a fixed step.</summary>
    private sealed class SteppingTimeProvider(TimeSpan step) : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() { var t = _ticks; _ticks += step.Ticks; return t; }
    }
}
