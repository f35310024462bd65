using System.Diagnostics;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Tests.Support;
using static WorkbenchAdmin.Core.Tests.Balancing.PolicyTests;

namespace WorkbenchAdmin.Core.Tests.Balancing;

public sealed class CustomScriptTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly BalanceEngine Engine = new();
    private static readonly NodeCandidate[] ThreeNodes = [Node("node1.example.com"), Node("node2.example.com", online: false), Node("node3.example.com")];

    public void Dispose() => _dir.Dispose();

    private BalanceDecision Decide(string script, string user = "alice", double timeoutSec = 5, NodeCandidate[]? nodes = null, bool useIp = false) =>
        Engine.Decide(new CustomScriptPolicy(new BalancerScriptOptions(script) { Timeout = TimeSpan.FromSeconds(timeoutSec) }),
                      user, new CandidateSet(nodes ?? ThreeNodes), useIp);

    private BalancerScriptException Fails(string script, BalancerScriptFailure failure, double timeoutSec = 5, string user = "alice")
    {
        var e = Assert.Throws<BalancerScriptException>(() => Decide(script, user, timeoutSec));
        Assert.Equal(failure, e.Failure);
        Assert.Equal("BalancerScript" + failure, e.ErrorId);
        Assert.Contains(script, e.Message);
        return e;
    }

    [Fact]
    public void ABashScriptChoosesFromTheOnlineNodesAndWhiteSpaceIsTrimmed()
    {
        var script = Scripts.Write(_dir, "last.sh", "#!/usr/bin/env bash\nIFS=, read -ra n <<< \"$RSTUDIO_NODES\"\nprintf '  %s \\n\\n' \"${n[-1]}\"\n");
        var d = Decide(script);
        Assert.Equal("node3.example.com:8787", d.Node);
        Assert.Equal("custom", d.Method);
        Assert.Equal("node3.example.com:8787", d.ScriptOutput);
        Assert.Contains("the custom script chose", d.Reason);
    }

    [Fact]
    public void APythonScriptGetsUserAndNodesThroughTheEnvironmentOnly()
    {
        var seen = _dir.File("seen.txt");
        var script = Scripts.Write(_dir, "py.py", $$"""
            #!/usr/bin/env python3
            import os, sys
            with open("{{seen}}", "w") as f:
                f.write(os.environ["RSTUDIO_USERNAME"] + "\n" + os.environ["RSTUDIO_NODES"] + "\n" + str(len(sys.argv)) + "\n" + os.environ.get("WBADMIN_TEST_INHERITED", "") + "\n")
            print(os.environ["RSTUDIO_NODES"].split(",")[0])
            """);
        Environment.SetEnvironmentVariable("WBADMIN_TEST_INHERITED", "yes");
        // A hostile user name stays data: nothing runs it.
        const string hostile = "bob$(touch pwned);`touch pwned2`";
        var d = Decide(script, hostile);
        Assert.Equal("node1.example.com:8787", d.Node);
        var lines = File.ReadAllLines(seen);
        Assert.Equal(hostile, lines[0]);
        Assert.Equal("node1.example.com:8787,node3.example.com:8787", lines[1]);
        Assert.Equal("1", lines[2]); // no arguments
        Assert.Equal("yes", lines[3]);
        Assert.False(File.Exists(_dir.File("pwned")) || File.Exists(_dir.File("pwned2")));
    }

    [Fact]
    public void WithIpAddressesTheScriptSeesAndAnswersAddresses()
    {
        var script = Scripts.Write(_dir, "first.sh", "#!/bin/sh\necho \"${RSTUDIO_NODES%%,*}\"\n");
        var nodes = new[] { Node("a", ip: "10.1.1.1"), Node("b", ip: "10.1.1.2") };
        var d = Decide(script, nodes: nodes, useIp: true);
        Assert.Equal("10.1.1.1:8787", d.Node);
        Assert.Equal("a:8787", d.Chosen.Node);
    }


    [Fact]
    public void AScriptOthersCanWriteIsNotRun()
    {
        var marker = _dir.File("ran");
        var script = Scripts.Write(_dir, "shared.sh", $"#!/bin/sh\ntouch {marker}\necho node1.example.com:8787\n");
        File.SetUnixFileMode(script, (UnixFileMode)0x1FD /* 775 */);
        var e = Fails(script, BalancerScriptFailure.Unsafe);
        Assert.Equal(WbErrorCategory.SecurityError, e.Category);
        Assert.Contains("writable by its group", e.Message);
        Assert.False(File.Exists(marker));
    }

    [RootFact("chown to another user")]
    public void AScriptAUserOwnsIsNotRun()
    {
        var script = Scripts.Write(_dir, "alices.sh", "#!/bin/sh\necho node1.example.com:8787\n");
        Core.Platform.UnixFile.ChangeOwner(script, Posix.Nobody, Posix.Nobody);
        Assert.Contains("is owned by uid 65534", Fails(script, BalancerScriptFailure.Unsafe).Message);
    }

    [RootFact("chown to another user")]
    public void AScriptInADirectoryAUserOwnsIsNotRun()
    {
        var home = Directory.CreateDirectory(_dir.File("home-alice")).FullName;
        var script = Scripts.Write(_dir, "home-alice/balancer.sh", "#!/bin/sh\necho node1.example.com:8787\n");
        Core.Platform.UnixFile.ChangeOwner(home, Posix.Nobody, Posix.Nobody);
        Assert.Contains($"{home} is owned by uid 65534", Fails(script, BalancerScriptFailure.Unsafe).Message);
    }

    [RootFact("chown to another user")]
    public void AScriptReachedThroughAUsersLinkIsNotRun()
    {
        var real = Scripts.Write(_dir, "real.sh", "#!/bin/sh\necho node1.example.com:8787\n");
        var link = _dir.File("via-link.sh");
        File.CreateSymbolicLink(link, real);
        Posix.ChownLink(link, Posix.Nobody, Posix.Nobody);
        Assert.Contains("is a link owned by uid 65534", Fails(link, BalancerScriptFailure.Unsafe).Message);
        Assert.Equal("node1.example.com:8787", Decide(real).Node); // the script itself is fine
    }

    /// <summary>A copy of /bin/sh at <paramref name="path"/>: an interpreter that runs scripts as the real one does.</summary>
    private static string CopyOfSh(string path)
    {
        File.Copy("/bin/sh", path);
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED); // 755
        return path;
    }

    [RootFact("chown to another user")]
    public void AScriptWhoseInterpreterAnotherUserOwnsIsNotRun()
    {
        // Issue 24: root-owned and safe itself, the script ran nobody's interpreter as root.
        var interpreter = CopyOfSh(_dir.File("nobodys-sh"));
        Core.Platform.UnixFile.ChangeOwner(interpreter, Posix.Nobody, Posix.Nobody);
        var marker = _dir.File("ran");
        var script = Scripts.Write(_dir, "uses-theirs.sh", $"#!{interpreter}\ntouch {marker}\necho node1.example.com:8787\n");
        var e = Fails(script, BalancerScriptFailure.Unsafe);
        Assert.Contains($"its #! interpreter {interpreter} is not safe: {interpreter} is owned by uid 65534", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void AnInterpreterThatIsItselfAScriptIsFollowed()
    {
        var inner = CopyOfSh(_dir.File("inner-sh"));
        var outer = Scripts.Write(_dir, "outer-interpreter", $"#!{inner}\nexec {inner} \"$@\"\n");
        File.SetUnixFileMode(inner, (UnixFileMode)0x1FD); // 775: its group could change it
        var script = Scripts.Write(_dir, "nested.sh", $"#!{outer}\necho node1.example.com:8787\n");
        Assert.Contains($"its #! interpreter {inner} is not safe", Fails(script, BalancerScriptFailure.Unsafe).Message);
    }

    [RootFact("chown to another user")]
    public void EnvFindsItsCommandThroughAPathDirectoryAnotherUserOwns()
    {
        var planted = Directory.CreateDirectory(_dir.File("planted-bin")).FullName;
        CopyOfSh(Path.Combine(planted, "sh"));
        Core.Platform.UnixFile.ChangeOwner(planted, Posix.Nobody, Posix.Nobody);
        var script = Scripts.Write(_dir, "env-sh.sh", "#!/usr/bin/env sh\necho node1.example.com:8787\n");
        var why = BalancerScriptRunner.WhyInterpreterUntrusted(script, $"{planted}:/usr/bin:/bin");
        Assert.Contains($"PATH leads through {planted} first", why);
        Assert.Null(BalancerScriptRunner.WhyInterpreterUntrusted(script, "/usr/bin:/bin"));
        Assert.Contains("the current directory would decide", BalancerScriptRunner.WhyInterpreterUntrusted(script, ":/usr/bin:/bin"));
    }

    [RootFact("chown to another user")]
    public void EnvFindsACommandAnotherUserOwnsInATrustedDirectory()
    {
        var bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        Core.Platform.UnixFile.ChangeOwner(CopyOfSh(Path.Combine(bin, "wbtest-sh")), Posix.Nobody, Posix.Nobody);
        var script = Scripts.Write(_dir, "env-theirs.sh", "#!/usr/bin/env wbtest-sh\necho node1.example.com:8787\n");
        Assert.Contains($"runs {bin}/wbtest-sh through env, which is not safe", BalancerScriptRunner.WhyInterpreterUntrusted(script, $"/usr/bin:{bin}"));
    }

    [Theory]
    [InlineData("-S sh -e")]
    [InlineData("PATH=/tmp sh")]
    public void EnvOptionsAndAssignmentsAreRefusedRatherThanInterpreted(string arguments)
    {
        var script = Scripts.Write(_dir, "env-options.sh", $"#!/usr/bin/env {arguments}\necho node1.example.com:8787\n");
        Assert.Contains("only '#!/usr/bin/env NAME' is followed", Fails(script, BalancerScriptFailure.Unsafe).Message);
    }

    [Fact]
    public void MissingScript() => Fails(_dir.File("nope.sh"), BalancerScriptFailure.NotFound);

    [Fact]
    public void NonExecutableScript()
    {
        var e = Fails(Scripts.Write(_dir, "noexec.sh", "#!/bin/sh\necho x\n", executable: false), BalancerScriptFailure.NotExecutable);
        Assert.Equal(WbErrorCategory.PermissionDenied, e.Category);
    }

    [Fact]
    public void NonZeroExitQuotesTheStartOfStderr()
    {
        var script = Scripts.Write(_dir, "fail.sh", "#!/bin/sh\necho 'database unreachable' >&2\nhead -c 100000 /dev/zero | tr '\\0' x >&2\nexit 3\n");
        var e = Fails(script, BalancerScriptFailure.NonZeroExit);
        Assert.Contains("exited with code 3", e.Message);
        Assert.Contains("stderr: \"database unreachable", e.Message);
        Assert.True(e.Message.Length < 600, "stderr is quoted bounded");
        Assert.Equal(WbErrorCategory.InvalidResult, e.Category);
    }

    [Fact]
    public void AScriptWithoutAnInterpreterLineFailsClearly()
    {
        var e = Assert.Throws<BalancerScriptException>(() => Decide(Scripts.Write(_dir, "noshebang", "echo node1.example.com:8787\n")));
        Assert.Equal(BalancerScriptFailure.StartFailed, e.Failure);
        Assert.Contains("format", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ABinaryProgramRunsDirectly()
    {
        var binary = _dir.File("true-binary");
        File.Copy("/bin/true", binary);
        Fails(binary, BalancerScriptFailure.EmptyOutput); // it ran, and said nothing
    }

    [Fact]
    public void StandardInputIsEmptySoAReadNeverHangs()
    {
        var script = Scripts.Write(_dir, "reads.sh", "#!/bin/sh\nread line\necho \"${RSTUDIO_NODES%%,*}\"\n");
        Assert.Equal("node1.example.com:8787", Decide(script, timeoutSec: 5).Node);
    }

    [Fact]
    public void DeathBySignalIsReportedAsSuch()
    {
        var e = Fails(Scripts.Write(_dir, "dies.sh", "#!/bin/sh\necho oops >&2\nkill -9 $$\n"), BalancerScriptFailure.NonZeroExit);
        Assert.Contains("killed by signal 9", e.Message);
    }

    [Fact]
    public void EmptyOutput() => Fails(Scripts.Write(_dir, "empty.sh", "#!/bin/sh\necho '   '\n"), BalancerScriptFailure.EmptyOutput);

    [Fact]
    public void MoreThanOneLine()
    {
        var e = Fails(Scripts.Write(_dir, "two.sh", "#!/bin/sh\necho node1.example.com:8787\necho node3.example.com:8787\n"), BalancerScriptFailure.MultipleLines);
        Assert.Contains("node1.example.com:8787\\nnode3.example.com:8787", e.Message);
    }

    [Theory]
    [InlineData("node9.example.com:8787")]
    [InlineData("node2.example.com:8787")] // listed as a node but offline: not in RSTUDIO_NODES
    [InlineData("node1.example.com")] // not in the exact form
    public void ANodeNotInTheList(string answer)
    {
        var e = Fails(Scripts.Write(_dir, "other.sh", $"#!/bin/sh\necho {answer}\n"), BalancerScriptFailure.UnknownNode);
        Assert.Contains($"printed \"{answer}\"", e.Message);
        Assert.Contains("RSTUDIO_NODES=\"node1.example.com:8787,node3.example.com:8787\"", e.Message);
    }

    [Fact]
    public void OutputOverTheCap()
    {
        Fails(Scripts.Write(_dir, "big.sh", "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' a\n"), BalancerScriptFailure.OutputTooLarge);
    }

    [Fact]
    public void EndlessOutputIsStoppedAtTheCapNotAtTheTimeout()
    {
        var watch = Stopwatch.StartNew();
        Fails(Scripts.Write(_dir, "yes.sh", "#!/bin/sh\nexec yes node1.example.com:8787\n"), BalancerScriptFailure.OutputTooLarge, timeoutSec: 30);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public void AScriptThatSleepsForeverIsKilledAtTheTimeout()
    {
        var pidFile = _dir.File("pid");
        var script = Scripts.Write(_dir, "sleep.sh", $"#!/bin/bash\necho $$ > {pidFile}\nexec sleep 1000\n");
        var watch = Stopwatch.StartNew();
        var e = Fails(script, BalancerScriptFailure.Timeout, timeoutSec: 0.5);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal(WbErrorCategory.OperationTimeout, e.Category);
        Assert.Contains("0.5 s", e.Message);
        Assert.True(Scripts.IsGone(Scripts.ReadPid(pidFile, TimeSpan.FromSeconds(1)), TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void AScriptWhoseChildrenSleepForeverLeavesNothingRunning()
    {
        // A direct child, and a grandchild orphaned to init (it left the tree but not the process group).
        var script = Scripts.Write(_dir, "children.sh", $"""
            #!/bin/bash
            sleep 1000 &
            echo $! > {_dir.File("child")}
            ( sleep 1001 & echo $! > {_dir.File("grandchild")} )
            echo $$ > {_dir.File("pid")}
            wait
            """);
        Fails(script, BalancerScriptFailure.Timeout, timeoutSec: 0.5);
        foreach (var name in new[] { "pid", "child", "grandchild" })
        {
            var pid = Scripts.ReadPid(_dir.File(name), TimeSpan.FromSeconds(1));
            Assert.True(Scripts.IsGone(pid, TimeSpan.FromSeconds(2)), $"{name} ({pid}) is still running");
        }
    }

    [Fact]
    public void AnAnswerIsTakenAtExitEvenIfABackgroundChildHoldsTheOutputOpen()
    {
        var script = Scripts.Write(_dir, "bg.sh", $"#!/bin/bash\nsleep 1000 &\necho $! > {_dir.File("child")}\necho node3.example.com:8787\n");
        var watch = Stopwatch.StartNew();
        Assert.Equal("node3.example.com:8787", Decide(script, timeoutSec: 20).Node);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.True(Scripts.IsGone(Scripts.ReadPid(_dir.File("child"), TimeSpan.FromSeconds(1)), TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void NodesVariableListsOnlineNodesInNodeOrder()
    {
        Assert.Equal("node1.example.com:8787,node3.example.com:8787", CustomScriptPolicy.NodesVariable(new CandidateSet(ThreeNodes), false));
    }
}
