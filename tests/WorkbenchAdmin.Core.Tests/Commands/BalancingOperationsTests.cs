using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Commands;

public sealed class BalancingOperationsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    private static NodeCandidate[] Nodes(params string[] entries) => entries.Select(NodeCandidate.Parse).ToArray();

    [Fact]
    public void TheMethodComesFromTheLoadBalancerFileUnlessGiven()
    {
        _dir.Write("load-balancer", "balancer=user-hash\n");
        var op = BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path, Node = Nodes("a:1", "b:1") }, new RecordingHost());
        Assert.Equal("user-hash", op.Policy.Name);
        var over = BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path, Method = "System-Load", Node = Nodes("a:1") }, new RecordingHost());
        Assert.Equal("system-load", over.Policy.Name);
    }

    [Fact]
    public void EachUserIsDecidedAndAFailureForOneUserDoesNotStopTheOthers()
    {
        var script = Scripts.Write(_dir, "b.sh", "#!/bin/sh\n[ \"$RSTUDIO_USERNAME\" = bad ] && exit 4\necho \"${RSTUDIO_NODES##*,}\"\n");
        var op = BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path, Method = "custom", ScriptPath = script, Node = Nodes("a:1", "b:1") }, new RecordingHost());
        var host = new RecordingHost();
        foreach (var user in new[] { "alice", "bad", "carol" }) op.Decide(user, host);
        Assert.Equal(["alice", "carol"], host.ObjectsOf<BalanceDecision>().Select(d => d.UserName));
        Assert.All(host.ObjectsOf<BalanceDecision>(), d => Assert.Equal("b:1", d.Node));
        var error = Assert.Single(host.Errors);
        Assert.Equal(("BalancerScriptNonZeroExit", WbErrorCategory.InvalidResult), (error.ErrorId, error.Category));
        Assert.Equal(2, host.Verbose.Count);
    }

    [Fact]
    public void NoOnlineNodeIsAPerUserResourceUnavailableError()
    {
        var offline = Nodes("a:1");
        offline[0].Online = false;
        var op = BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path, Node = offline }, new RecordingHost());
        var host = new RecordingHost();
        op.Decide("alice", host);
        Assert.Equal(WbErrorCategory.ResourceUnavailable, Assert.Single(host.Errors).Category);
    }

    [Fact]
    public void SetupErrorsAreTerminating()
    {
        Assert.Equal("NoCandidateSource", Assert.Throws<WbException>(() =>
            BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path }, new RecordingHost())).ErrorId);
        Assert.Equal("InvalidBalancingMethod", Assert.Throws<WbException>(() =>
            BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path, Method = "random", Node = Nodes("a:1") }, new RecordingHost())).ErrorId);
        Assert.Equal("InvalidTimeout", Assert.Throws<WbException>(() =>
            BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path, Method = "custom", TimeoutSec = -1, Node = Nodes("a:1") }, new RecordingHost())).ErrorId);
    }

    [Fact]
    public void TheScriptPathAndIpOptionComeFromTheLoadBalancerFile()
    {
        var script = Scripts.Write(_dir, "first.sh", "#!/bin/sh\necho \"${RSTUDIO_NODES%%,*}\"\n");
        _dir.Write("load-balancer", $"balancer=custom\ncustom-balancer-script={script}\nbalancer-use-ip-address=1\n");
        var op = BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = _dir.Path, Node = Nodes("10.0.0.7:8787", "10.0.0.8:8787") }, new RecordingHost());
        var host = new RecordingHost();
        op.Decide("alice", host);
        Assert.Equal("10.0.0.7:8787", Assert.Single(host.ObjectsOf<BalanceDecision>()).Node);
        Assert.True(op.UseIPAddress);
    }

    [Fact]
    public void TestBalancerScriptPassesAGoodScriptOnEverySample()
    {
        var script = Scripts.Write(_dir, "good.sh", "#!/bin/sh\necho \"${RSTUDIO_NODES##*,}\"\n");
        var host = new RecordingHost();
        TestBalancerScriptOperation.Run(new TestBalancerScriptRequest { ConfigRoot = _dir.Path, ScriptPath = script }, host);
        var results = host.ObjectsOf<BalancerScriptTestResult>().ToList();
        Assert.Equal(TestBalancerScriptOperation.SampleUsers.Count * TestBalancerScriptOperation.SampleNodeLists.Count, results.Count);
        Assert.All(results, r => Assert.True(r.Passed, r.Message));
        Assert.Contains(results, r => r.Chosen == "10.0.0.13:443" && r.UserName == "josé.garcía");
        Assert.All(results, r => Assert.True(r.Duration > TimeSpan.Zero));
    }

    [Fact]
    public void TestBalancerScriptReportsEachBrokenCase()
    {
        var script = Scripts.Write(_dir, "picky.sh", "#!/bin/sh\ncase \"$RSTUDIO_USERNAME\" in bob) echo nowhere:1 ;; *) echo \"${RSTUDIO_NODES%%,*}\" ;; esac\n");
        var host = new RecordingHost();
        TestBalancerScriptOperation.Run(new TestBalancerScriptRequest { ConfigRoot = _dir.Path, ScriptPath = script, UserName = ["alice", "bob"], Node = Nodes("n1:8787", "n2:8787") }, host);
        var results = host.ObjectsOf<BalancerScriptTestResult>().ToList();
        Assert.Equal([true, false], results.Select(r => r.Passed));
        Assert.Equal("UnknownNode", results[1].Failure);
        Assert.Equal("n1:8787,n2:8787", results[1].Nodes);
        Assert.Contains("nowhere:1", results[1].Message);
    }

    [Fact]
    public void TestBalancerScriptReportsAMissingScriptOnce()
    {
        var host = new RecordingHost();
        TestBalancerScriptOperation.Run(new TestBalancerScriptRequest { ConfigRoot = _dir.Path, ScriptPath = _dir.File("missing.sh") }, host);
        var result = Assert.Single(host.ObjectsOf<BalancerScriptTestResult>());
        Assert.Equal(("NotFound", false), (result.Failure, result.Passed));
    }
}
