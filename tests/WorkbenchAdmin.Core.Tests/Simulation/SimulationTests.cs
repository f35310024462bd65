using System.Text;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Simulation;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Simulation;

/// <summary>Known answers of Measure-WbBalancer's simulator on tiny workloads worked out by hand.</summary>
public sealed class SimulationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A workload from (user, start s, end s, cpu) tuples on node01..nodeNN of 4 cores.</summary>
    private static Workload Tiny(int nodes, long duration, params (string User, long Start, long End, double Cpu)[] sessions)
    {
        var users = sessions.Select(s => s.User).Distinct().ToList();
        return new Workload("tiny", T0, duration, users,
            sessions.Select(s => new WorkloadSession(users.IndexOf(s.User), s.Start, s.End, s.Cpu)), Workload.NumberedNodes(nodes, 4));
    }

    private static SimulationRun Run(Workload w, string method, SimulationOptions? options = null) =>
        BalancerSimulator.Run(w, BalancingPolicies.Create(method), options ?? new SimulationOptions { IntervalSeconds = 5, Detail = true });

    [Fact]
    public void SessionsAlternatesEvenlyBetweenTwoNodes()
    {
        var w = Tiny(2, 60, ("a", 0, 60, 1), ("b", 1, 60, 1), ("c", 2, 60, 1), ("d", 3, 60, 1));
        var run = Run(w, "sessions");
        var last = run.Result.Series.Where(s => s.Time == T0.AddSeconds(55)).ToList();
        Assert.Equal([2, 2], last.Select(s => s.Sessions));
        Assert.Equal(0, run.Result.MaxImbalance); // every sample (5 s onwards) sees 2 and 2
        Assert.Equal(2, run.Result.PeakSessionsPerNode);
        Assert.Equal(4, run.Result.Decisions);
        Assert.Equal(0, run.Result.Refused);
    }

    [Fact]
    public void SessionsAlternatesForOneUserToo_EverySecondSessionSwitches()
    {
        // One user, four overlapping sessions on two nodes: node01, node02, node01, node02: three switches of three.
        var w = Tiny(2, 60, ("a", 0, 60, 1), ("a", 1, 60, 1), ("a", 2, 60, 1), ("a", 3, 60, 1));
        var r = Run(w, "sessions").Result;
        Assert.Equal(3, r.Switches);
        Assert.Equal(100, r.SwitchPercent);
        Assert.Equal(1, r.SwitchedUsers);
    }

    [Fact]
    public void UserHashIsStableForAFixedNodeSet_AndAgreesWithTheEngine()
    {
        var sessions = new List<(string, long, long, double)>();
        for (var round = 0; round < 5; round++)
            for (var u = 0; u < 100; u++)
                sessions.Add(($"user{u:D3}", round * 3600 + u, round * 3600 + u + 600, 0.5));
        var w = Tiny(4, 5 * 3600, sessions.ToArray());
        var run = Run(w, "user-hash", new SimulationOptions { IntervalSeconds = 5, Detail = true });
        Assert.Equal(0, run.Result.Switches);
        Assert.Equal(500, run.Result.Decisions);

        // Where each user's first session went is what the engine decides on the same four nodes.
        var set = new CandidateSet(w.Nodes.Select(n => new NodeCandidate { Host = n.Host, Port = n.Port, Cores = n.Cores }));
        var engine = new BalanceEngine();
        var expected = Enumerable.Range(0, 4).Select(i => w.Users.Count(u => engine.Decide(UserHashPolicy.Instance, u, set).ChosenIndex == i)).ToArray();
        // Sample at 700 s: every first-round session (each 600 s long, started at u s) ... counted at 595 s instead, when all 100 run.
        var at = run.Result.Series.Where(s => s.Time == T0.AddSeconds(595)).OrderBy(s => s.Node, StringComparer.Ordinal).Select(s => s.Sessions).ToArray();
        Assert.Equal(expected, at);
    }

    /// <summary>1,000 users with one session before a fifth node joins and one after.</summary>
    private static BalancerComparison AddANode(string method)
    {
        var sessions = new List<(string, long, long, double)>();
        for (var u = 0; u < 1000; u++) sessions.Add(($"u{u}", u, u + 60, 0.1));
        for (var u = 0; u < 1000; u++) sessions.Add(($"u{u}", 86400 + u, 86400 + u + 60, 0.1));
        var w = Tiny(4, 2 * 86400, sessions.ToArray());
        return Run(w, method, new SimulationOptions { Events = [BalancerEvent.Parse("0.12:00 add")] }).Result;
    }

    [Fact]
    public void ModuloHashingMovesAbout_NMinus1_OverN_OfUsersWhenANodeIsAdded()
    {
        var r = AddANode("user-hash");
        var impact = Assert.Single(r.Events);
        Assert.Equal("node05:8787", impact.Node);
        Assert.Equal(1000, impact.UsersCompared);
        Assert.InRange(impact.UsersMoved / 1000.0, 0.8 - 0.05, 0.8 + 0.05); // (N-1)/N with N = 5
        Assert.Equal(impact.UsersMoved, r.UsersMovedByEvents);
    }

    [Fact]
    public void ConsistentHashingMovesAbout_1_OverN_OfUsersWhenANodeIsAdded()
    {
        var impact = Assert.Single(AddANode("consistent-hash").Events);
        Assert.Equal(1000, impact.UsersCompared);
        Assert.InRange(impact.UsersMoved / 1000.0, 0.2 - 0.05, 0.2 + 0.05); // 1/N with N = 5
    }

    [Fact]
    public void AFullClusterRefusesSessions_AsTheEngineLeavesFullNodesOut()
    {
        var w = Tiny(2, 60, ("a", 0, 60, 1), ("b", 1, 60, 1), ("c", 2, 60, 1), ("d", 3, 4, 1), ("e", 10, 60, 1));
        foreach (var method in MeasureBalancerOperation.DefaultMethods)
        {
            var r = Run(w, method, new SimulationOptions { MaxSessionsPerNode = 1 }).Result;
            // a and b fill both nodes; c and d are refused; e too (a and b still run).
            Assert.Equal(5, r.Sessions);
            Assert.Equal(3, r.Refused);
            Assert.Equal(1, r.PeakSessionsPerNode);
        }
    }

    [Fact]
    public void ADrainedNodeTakesNothingNew_AndAFailedNodeLosesItsSessions()
    {
        var sessions = Enumerable.Range(0, 20).Select(i => ($"u{i}", (long)(100 + i), 1000L, 0.5)).ToArray();
        var w = Tiny(2, 1000, sessions);
        foreach (var method in MeasureBalancerOperation.DefaultMethods)
        {
            var run = Run(w, method, new SimulationOptions { IntervalSeconds = 50, Detail = true, Events = [BalancerEvent.Parse("00:01 drain node01"), BalancerEvent.Parse("00:10 fail node02")] });
            var at = run.Result.Series.Where(s => s.Time == T0.AddSeconds(650)).ToList(); // drained at 60 s, failed at 600 s
            Assert.Equal(("node01:8787", "Draining", 0), (at[0].Node, at[0].State, at[0].Sessions));
            Assert.Equal(("node02:8787", "Offline", 0), (at[1].Node, at[1].State, at[1].Sessions));
            Assert.Equal(20, run.Result.Events[1].SessionsLost);
            Assert.Equal(0, run.Result.Refused);
        }
        // After both events no node may take a session.
        var late = Tiny(2, 1000, ("late", 900, 950, 1));
        var r = Run(late, "sessions", new SimulationOptions { Events = [BalancerEvent.Parse("00:01 drain node01"), BalancerEvent.Parse("00:10 fail node02")] }).Result;
        Assert.Equal(1, r.Refused);
    }

    /// <summary>Three waves of ten long sessions (at 10, 400 and 800 s) on two nodes, sessions method, with <paramref name="events"/>.</summary>
    private static SimulationRun Waves(params string[] events)
    {
        var sessions = new[] { 10L, 400L, 800L }.SelectMany((start, wave) => Enumerable.Range(0, 10).Select(i => ($"w{wave}u{i}", start + i, 1000L, 0.5))).ToArray();
        return Run(Tiny(2, 1000, sessions), "sessions",
            new SimulationOptions { IntervalSeconds = 50, Detail = true, Events = events.Select(BalancerEvent.Parse).ToList() });
    }

    private static (string State, int Sessions)[] At(SimulationRun run, long second) =>
        run.Result.Series.Where(x => x.Time == T0.AddSeconds(second)).OrderBy(x => x.Node, StringComparer.Ordinal).Select(x => (x.State, x.Sessions)).ToArray();

    [Fact]
    public void ARemovedNodeLosesItsSessionsAndLeavesTheCluster()
    {
        var run = Waves("00:01 remove node02");
        Assert.Equal(5, run.Result.Events[0].SessionsLost); // the first wave was split 5/5
        Assert.Equal([("Online", 5)], At(run, 100)); // node02 is gone from the series
        Assert.Equal([("Online", 25)], At(run, 850)); // every later session went to node01
        Assert.Equal(0, run.Result.Refused);
    }

    [Fact]
    public void AResumedNodeTakesSessionsAgain()
    {
        var run = Waves("00:01 drain node01", "00:10 resume node01");
        Assert.Equal([("Draining", 5), ("Online", 5)], At(run, 100));
        Assert.Equal([("Draining", 5), ("Online", 15)], At(run, 450)); // the second wave avoided the drained node
        Assert.Equal([("Online", 15), ("Online", 15)], At(run, 850)); // resumed: the third wave evened them out
        Assert.All(run.Result.Events, e => Assert.Equal(0, e.SessionsLost)); // a drain ends nothing
    }

    [Fact]
    public void ARecoveredNodeTakesSessionsAgainAfterLosingItsOwn()
    {
        var run = Waves("00:01 fail node02", "00:10 recover node02");
        Assert.Equal(5, run.Result.Events[0].SessionsLost);
        Assert.Equal([("Online", 5), ("Offline", 0)], At(run, 100));
        Assert.Equal([("Online", 15), ("Offline", 0)], At(run, 450));
        Assert.Equal([("Online", 15), ("Online", 10)], At(run, 850)); // recovered empty: it took the whole third wave
        Assert.Equal(0, run.Result.Events[1].SessionsLost);
    }

    [Fact]
    public void TheCustomMethodRunsTheScriptForRealOnEveryDecision()
    {
        var log = _dir.File("calls.txt");
        var script = Scripts.Write(_dir, "last.sh", $"#!/usr/bin/env bash\necho \"$RSTUDIO_USERNAME\" >> '{log}'\necho \"${{RSTUDIO_NODES##*,}}\"\n");
        var w = Tiny(3, 100, ("a", 0, 100, 1), ("b", 1, 100, 1), ("c", 2, 100, 1));
        var policy = BalancingPolicies.Create("custom", PolicyOptions.Default.With(CustomScriptPolicy.ScriptPathOption, script).With(CustomScriptPolicy.TimeoutSecOption, 10.0));
        var run = BalancerSimulator.Run(w, policy, new SimulationOptions { IntervalSeconds = 5, Detail = true });
        Assert.Equal(["a", "b", "c"], File.ReadAllLines(log));
        Assert.Equal([0, 0, 3], run.Result.Series.Where(s => s.Time == T0.AddSeconds(50)).Select(s => s.Sessions));
    }

    [Fact]
    public void EventsThatCannotHappenAreErrorsNamingTheEvent()
    {
        var w = Tiny(2, 86400, ("a", 0, 60, 1));
        WbException Bad(string text) =>
            Assert.Throws<WbException>(() => BalancerSimulator.ResolveEvents(w, [BalancerEvent.Parse(text)]));
        Assert.Contains("no node node09:8787", Bad("01:00 drain node09").Message);
        Assert.Contains("not within the workload", Bad("2.01:00 drain node01").Message);
        Assert.Contains("already in the cluster", Bad("01:00 add node02").Message);
        Assert.Contains("not draining", Bad("01:00 resume node02").Message);
        var e = Assert.Throws<WbException>(() => BalancerEvent.Parse("tomorrow drain node01"));
        Assert.Equal("InvalidBalancerEvent", e.ErrorId);
        Assert.Contains("'tomorrow drain node01'", e.Message);
        Assert.Throws<WbException>(() => BalancerEvent.Parse("01:00 drain")); // only add may leave the node out
        Assert.Equal("1.10:00 add node07", BalancerEvent.Parse(" 1.10:00  ADD node07 ").ToString());
    }
}

public sealed class LoadAverageTests
{
    [Fact]
    public void TheDecayFactorsAreTheKernelsFixedPointConstants()
    {
        // include/linux/sched/loadavg.h: EXP_1 1884, EXP_5 2014, EXP_15 2037 over FIXED_1 = 1 << 11.
        Assert.Equal(2048, LoadAverage.Fixed1);
        Assert.Equal(LoadAverage.Exp1, (int)Math.Round(LoadAverage.DecayFor(60) * LoadAverage.Fixed1));
        Assert.Equal(LoadAverage.Exp5, (int)Math.Round(LoadAverage.Decay5 * LoadAverage.Fixed1));
        Assert.Equal(LoadAverage.Exp15, (int)Math.Round(LoadAverage.DecayFor(900) * LoadAverage.Fixed1));
        Assert.Equal(Math.Exp(-5.0 / 300), LoadAverage.Decay5);
    }

    [Fact]
    public void TheModelFollowsTheFormula_AndStaysCloseToTheKernelsFixedPointArithmetic()
    {
        // 60 samples (5 minutes) at 2 runnable, then 60 at 0: the formula's closed form and the kernel's calc_load.
        double load = 0;
        ulong fixedLoad = 0;
        for (var k = 1; k <= 120; k++)
        {
            var n = k <= 60 ? 2.0 : 0.0;
            load = LoadAverage.Next(load, n, LoadAverage.Decay5);
            fixedLoad = CalcLoad(fixedLoad, LoadAverage.Exp5, (ulong)(n * LoadAverage.Fixed1));
            if (k == 60) Assert.Equal(2 * (1 - Math.Exp(-1)), load, 12);
            // The kernel rounds up by at most 1/2048 per rising sample, decayed since: less than 0.02 in all.
            Assert.InRange(Math.Abs(load - fixedLoad / (double)LoadAverage.Fixed1), 0, 0.02);
        }
        Assert.Equal(2 * (1 - Math.Exp(-1)) * Math.Exp(-1), load, 12);
    }

    /// <summary>kernel/sched/loadavg.c calc_load: the fixed-point update, rounding up while the load rises.</summary>
    private static ulong CalcLoad(ulong load, ulong exp, ulong active)
    {
        var newload = load * exp + active * ((ulong)LoadAverage.Fixed1 - exp);
        if (active >= load) newload += (ulong)LoadAverage.Fixed1 - 1;
        return newload / (ulong)LoadAverage.Fixed1;
    }

    [Fact]
    public void ASimulatedNodesLoadIsTheKernelsFiveMinuteAverageOfItsSessionsCpu()
    {
        // One session of 3 cores from 0 s: the samples at 5…300 s see it (arrivals come after the sample of their instant).
        var w = new Workload("one", DateTimeOffset.UnixEpoch, 600, ["a"], [new WorkloadSession(0, 0, 600, 3)], Workload.NumberedNodes(1, 4));
        var run = BalancerSimulator.Run(w, BalancingPolicies.Create("system-load"), new SimulationOptions { IntervalSeconds = 300, Detail = true });
        var at300 = run.Result.Series.Single(s => s.Time == DateTimeOffset.UnixEpoch.AddSeconds(300));
        Assert.Equal(Math.Round(3 * (1 - Math.Exp(-1)), 3), at300.Load5);
        Assert.Equal(Math.Round(3 * (1 - Math.Exp(-1)) / 4, 3), at300.LoadPerCore);
    }
}

public sealed class WorkloadTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    private static readonly IReadOnlyList<SimNodeSpec> Nodes = Workload.NumberedNodes(2, 4);

    private WbException CsvFails(string text, string expected)
    {
        var path = _dir.File("arrivals.csv");
        File.WriteAllText(path, text);
        var e = Assert.Throws<WbException>(() => WorkloadCsv.Read(path, Nodes, 0.5));
        Assert.Equal("InvalidWorkloadCsv", e.ErrorId);
        Assert.Contains(path + ":" + expected, e.Message);
        return e;
    }

    [Fact]
    public void CsvErrorsNameTheFileAndTheLine()
    {
        const string header = "user,start,end,cpu\n";
        Assert.Contains("start \"yesterday\" is not a time", CsvFails(header + "alice,2024-01-01T09:00:00Z,2024-01-01T10:00:00Z,1\nbob,yesterday,,1\n", "3:").Message);
        Assert.Contains("must name the columns user, start and end", CsvFails("name,when\nalice,2024-01-01T09:00Z\n", "1:").Message);
        Assert.Contains("3 fields where the header has 4", CsvFails(header + "\nalice,2024-01-01T09:00:00Z,2024-01-01T10:00:00Z\n", "3:").Message);
        Assert.Contains("before the start", CsvFails(header + "alice,2024-01-01T09:00:00Z,2024-01-01T08:00:00Z,1\n", "2:").Message);
        Assert.Contains("cpu \"lots\"", CsvFails(header + "alice,2024-01-01T09:00:00Z,,lots\n", "2:").Message);
        Assert.Contains("is not a user name", CsvFails(header + " alice,2024-01-01T09:00:00Z,,1\n", "2:").Message);
        Assert.Contains("not closed", CsvFails(header + "\"alice,2024-01-01T09:00:00Z,,1\n", "2:").Message);
        Assert.Contains("empty", CsvFails("", "1:").Message);
    }

    [Fact]
    public void ACsvFromExportCsvReadsBack_QuotedColumnsInAnyOrder()
    {
        var path = _dir.File("sessions.csv");
        File.WriteAllText(path, """
            "Id","UserName","Node","Started","Ended","Active"
            "1","alice","node1:8787","2024-03-05T09:00:00+01:00","2024-03-05T09:30:00+01:00","False"
            "2","bob ""the"" builder","node1:8787","2024-03-05 08:10:00Z","","True"
            """.Replace("\r", ""));
        var w = WorkloadCsv.Read(path, Nodes, 0.25);
        Assert.Equal(["alice", "bob \"the\" builder"], w.Users);
        Assert.Equal(new DateTimeOffset(2024, 3, 5, 0, 0, 0, TimeSpan.Zero), w.Start);
        Assert.Equal([(0, 8 * 3600L, 8 * 3600 + 1800L, 0.25)], w.Sessions.Where(s => s.User == 0).Select(s => (s.User, s.Start, s.End, s.Cpu)));
        Assert.Equal(w.Duration, w.Sessions.Single(s => s.User == 1).End); // no end: runs to the workload's end
    }

    [Fact]
    public void TheSameSeedGivesTheSameWorkload_AnotherSeedAnother()
    {
        var o = new SyntheticWorkloadOptions { UserCount = 50, Days = 7, Seed = 42 };
        var a = SyntheticWorkload.Generate(o);
        var b = SyntheticWorkload.Generate(o);
        var c = SyntheticWorkload.Generate(o with { Seed = 43 });
        Assert.Equal(a.Sessions, b.Sessions);
        Assert.NotEqual(a.Sessions, c.Sessions);
        Assert.True(a.Sessions.Count > 50 * 5, "about 1.6 sessions per user on each weekday");
        // A morning peak: more sessions start between 8 and 10 than in the rest of the day but the early afternoon.
        var hours = a.Sessions.GroupBy(s => s.Start % 86400 / 3600).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(hours.GetValueOrDefault(9) > 3 * hours.GetValueOrDefault(3), "the morning peak");
        // Heavy users: a few sessions run far longer and hungrier than the median one.
        var cpu = a.Sessions.Select(s => s.Cpu).Order().ToList();
        Assert.True(cpu[^1] > 4 * cpu[cpu.Count / 2], "heavy users' sessions want much more CPU");
    }

    [Fact]
    public void TheSameInputsGiveTheSameResultsAndAByteIdenticalReport()
    {
        string Report(out List<BalancerComparison> results)
        {
            var host = new RecordingHost();
            var path = _dir.File($"r{Guid.NewGuid():N}.html");
            var runs = MeasureBalancerOperation.Run(new MeasureBalancerRequest { UserCount = 60, Days = 3, Seed = 5, ReportPath = path, Detail = true,
                Event = [BalancerEvent.Parse("1.10:00 add"), BalancerEvent.Parse("2.08:00 drain node01")] }, host);
            results = host.Objects.Cast<BalancerComparison>().Select(r => r with { Elapsed = default, DecisionsPerSecond = 0 }).ToList();
            Assert.All(results, r => Assert.NotEmpty(r.Series));
            Assert.Equal(runs.Select(r => r.Result.Method), MeasureBalancerOperation.DefaultMethods);
            return File.ReadAllText(path, Encoding.UTF8);
        }
        var first = Report(out var a);
        var second = Report(out var b);
        Assert.Equal(first, second);
        Assert.Equal(a.Select(Flatten), b.Select(Flatten));
        Assert.Equal(MeasureBalancerOperation.DefaultMethods, a.Select(r => r.Method));

        // Self-contained: inline SVG, no script, nothing fetched.
        Assert.Contains("<svg", first);
        Assert.DoesNotContain("<script", first, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" src=", first);
        Assert.DoesNotContain(" href=", first);
        Assert.DoesNotContain("url(", first);
    }

    /// <summary>The object with its lists written out (records compare lists by reference): the series included.</summary>
    private static string Flatten(BalancerComparison r) => r with { Events = [], Series = [] } + string.Join(";", r.Events) + string.Join(";", r.Series);
}
