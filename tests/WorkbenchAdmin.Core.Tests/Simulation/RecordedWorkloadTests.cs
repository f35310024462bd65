using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Store;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Simulation;

/// <summary>Measure-WbBalancer -Recorded: the store's own history, read directly, replays as the same history piped in.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RecordedWorkloadTests(PostgresFixture pg) : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TheStoresHistoryReadDirectlyReplaysExactlyAsWhenPipedIn()
    {
        var store = pg.NewStore().WithNodes(3);
        var placed = Enumerable.Range(0, 12).Select(i => store.PlaceSession(new PlacementRequest($"user{i % 5}", SessionsPolicy.Instance))).ToList();
        foreach (var s in placed.Where(s => s.Id % 3 == 0)) store.EndSession(s.Id);
        var connection = pg.Server.ConnectionString(store.Target.Database);

        var direct = MeasureBalancerOperation.Run(new MeasureBalancerRequest { Recorded = true, Store = new StoreRequest { ConnectionString = connection } }, new RecordingHost());
        var piped = MeasureBalancerOperation.Run(new MeasureBalancerRequest { Session = store.GetSessions(new SessionFilter { IncludeEnded = true }) }, new RecordingHost());

        Assert.Equal(MeasureBalancerOperation.DefaultMethods, direct.Select(r => r.Result.Method));
        Assert.All(direct, r => Assert.Equal(12, r.Result.Sessions));
        Assert.Equal(piped.Select(Figures), direct.Select(Figures));
    }

    private static string Figures(Core.Simulation.SimulationRun run) =>
        string.Join("|", run.Result.Method, run.Result.Sessions, run.Result.Refused, run.Result.PeakSessionsPerNode, run.Result.P95SessionsPerNode,
                    run.Result.MaxImbalance, run.Result.MeanImbalance, run.Result.Switches, run.Result.SwitchedUsers, run.Result.Decisions);

    [Fact]
    public void AnEmptyStoreIsAClearErrorAndAStoreWithoutRecordedIsRefused()
    {
        var store = pg.NewStore().WithNodes(2);
        var connection = pg.Server.ConnectionString(store.Target.Database);
        var empty = Assert.Throws<WbException>(() =>
            MeasureBalancerOperation.Run(new MeasureBalancerRequest { Recorded = true, Store = new StoreRequest { ConnectionString = connection } }, new RecordingHost()));
        Assert.Equal(("EmptyWorkload", WbErrorCategory.InvalidData), (empty.ErrorId, empty.Category));
        Assert.Contains("no sessions, running or ended", empty.Message);

        var without = Assert.Throws<WbException>(() =>
            MeasureBalancerOperation.Run(new MeasureBalancerRequest { UserCount = 5, Days = 1, Store = new StoreRequest { ConnectionString = connection } }, new RecordingHost()));
        Assert.Equal(("StoreWithoutRecorded", WbErrorCategory.InvalidArgument), (without.ErrorId, without.Category));
        Assert.DoesNotContain("Password", without.Message);

        // A configuration root read for nothing is said so, not silently ignored.
        var host = new RecordingHost();
        MeasureBalancerOperation.Run(new MeasureBalancerRequest { UserCount = 5, Days = 1, Method = ["sessions"], Store = new StoreRequest { ConfigRoot = _dir.Path } }, host);
        Assert.Contains(host.Warnings, w => w.Contains("this run reads nothing from it"));
    }

    [Fact]
    public void CustomWithoutAScriptPathRunsTheScriptTheConfigurationRootNames()
    {
        var counter = _dir.File("calls");
        var script = Scripts.Write(_dir, "pick-first.sh", $"#!/bin/sh\necho x >> {counter}\necho \"${{RSTUDIO_NODES%%,*}}\"\n");
        var root = Directory.CreateDirectory(Path.Combine(_dir.Path, "etc-rstudio")).FullName;
        File.WriteAllText(Path.Combine(root, "load-balancer"), "balancer=sessions\n");
        File.WriteAllText(Path.Combine(root, ModuleSettings.FileName), $"{ModuleSettings.CustomScriptKey}={script}\n");

        var run = Assert.Single(MeasureBalancerOperation.Run(new MeasureBalancerRequest
        {
            Method = [BalancingMethods.Custom], UserCount = 3, Days = 1, NodeCount = 2, Store = new StoreRequest { ConfigRoot = root },
        }, new RecordingHost()));
        Assert.Equal(BalancingMethods.Custom, run.Result.Method);
        Assert.Equal(run.Result.Sessions, File.ReadAllLines(counter).Length); // the configured script ran once per decision
        Assert.True(run.Result.Sessions > 0);
    }
}
