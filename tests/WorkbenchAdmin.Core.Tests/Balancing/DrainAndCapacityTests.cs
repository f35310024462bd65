using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Balancing;

/// <summary>Options every policy honours: a drained node is never chosen, a full node is skipped, and when none can take a session nothing is overloaded.</summary>
public sealed class DrainAndCapacityTests : IDisposable
{
    private static readonly BalanceEngine Engine = new();
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Methods => new() { "sessions", "system-load", "user-hash", "consistent-hash", "bounded-hash" };

    private static NodeCandidate[] ThreeNodes() =>
        [PolicyTests.Node("a", 0, load5: 0.1), PolicyTests.Node("b", 5, load5: 3), PolicyTests.Node("c", 9, load5: 5)];

    [Theory]
    [MemberData(nameof(Methods))]
    public void ADrainedNodeIsNeverChosen(string method)
    {
        var nodes = ThreeNodes();
        nodes[0].Draining = true;
        for (var i = 0; i < 300; i++)
        {
            var d = Engine.Decide(BalancingPolicies.Create(method), $"user{i}", new CandidateSet(nodes));
            Assert.NotEqual("a:8787", d.Node);
            Assert.True(d.Candidates[0].Draining);
            Assert.Null(d.Candidates[0].Score);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void AFullNodeIsSkipped(string method)
    {
        var options = new BalancingOptions { MaxSessionsPerNode = 5 };
        for (var i = 0; i < 300; i++)
        {
            var d = Engine.Decide(BalancingPolicies.Create(method), $"user{i}", new CandidateSet(ThreeNodes()), options: options);
            Assert.Equal("a:8787", d.Node); // b has 5 and c 9: both full
            Assert.Contains("left out: b:8787 full (5 of 5), c:8787 full (9 of 5)", d.Reason);
        }
    }

    [Fact]
    public void WhenEveryNodeIsFullTheDecisionFailsRatherThanOverload()
    {
        var nodes = ThreeNodes();
        nodes[0].Draining = true;
        var e = Assert.Throws<WbException>(() => Engine.Decide(SessionsPolicy.Instance, "u", new CandidateSet(nodes), options: new BalancingOptions { MaxSessionsPerNode = 5 }));
        Assert.Equal(("AllNodesFull", WbErrorCategory.LimitsExceeded), (e.ErrorId, e.Category));
        Assert.Contains("5 sessions", e.Message);
        Assert.Contains("2 full, 1 draining", e.Message);
    }

    [Fact]
    public void WhenEveryOnlineNodeIsDrainingTheDecisionSaysSo()
    {
        var nodes = ThreeNodes();
        foreach (var n in nodes) n.Draining = true;
        nodes[2].Online = false;
        var e = Assert.Throws<WbException>(() => Engine.Decide(SessionsPolicy.Instance, "u", new CandidateSet(nodes)));
        Assert.Equal(("AllNodesDraining", WbErrorCategory.ResourceUnavailable), (e.ErrorId, e.Category));
        Assert.Contains("all 2 online nodes are draining", e.Message);
    }

    [Fact]
    public void UserHashTakesTheModuloOverTheNodesThatMayTakeTheSession()
    {
        var nodes = ThreeNodes();
        nodes[1].Draining = true;
        var d = Engine.Decide(UserHashPolicy.Instance, "alice", new CandidateSet(nodes));
        Assert.Contains("mod 2 online", d.Reason);
    }

    [Fact]
    public void ACustomScriptSeesNeitherDrainedNorFullNodes()
    {
        var seen = _dir.File("nodes");
        var script = Scripts.Write(_dir, "echo.sh", $"#!/bin/sh\necho \"$RSTUDIO_NODES\" > {seen}\necho \"${{RSTUDIO_NODES%%,*}}\"\n");
        var nodes = ThreeNodes().Append(PolicyTests.Node("d", 1)).ToArray();
        nodes[0].Draining = true;
        var d = Engine.Decide(new CustomScriptPolicy(new BalancerScriptOptions(script)), "u", new CandidateSet(nodes), options: new BalancingOptions { MaxSessionsPerNode = 9 });
        Assert.Equal("b:8787,d:8787", File.ReadAllText(seen).Trim());
        Assert.Equal("b:8787", d.Node);
    }
}
