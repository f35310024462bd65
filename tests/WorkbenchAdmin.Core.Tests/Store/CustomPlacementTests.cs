using Npgsql;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>A custom script runs outside the placement lock: a slow script never holds up other placements.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CustomPlacementTests(PostgresFixture pg) : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>A script that says it started, then waits for a go file before choosing node2.</summary>
    private CustomScriptPolicy WaitingScript() => new(new BalancerScriptOptions(Scripts.Write(_dir, "wait.sh", $"""
        #!/bin/sh
        touch {_dir.File("started")}
        while [ ! -e {_dir.File("go")} ]; do sleep 0.05; done
        echo node2.example.com:8787
        """)) { Timeout = TimeSpan.FromSeconds(60) });

    private void WaitFor(string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(_dir.File(name))) { Assert.True(DateTime.UtcNow < deadline, $"{name} never appeared"); Thread.Sleep(20); }
    }

    [Fact]
    public async Task OtherPlacementsProceedWhileAScriptIsDeciding()
    {
        var store = pg.NewStore().WithNodes(2);
        var custom = Task.Run(() => store.PlaceSession(new PlacementRequest("scripted", WaitingScript())));
        WaitFor("started");

        // The script is still waiting: a placement that needed the lock it held would never finish.
        var other = Task.Run(() => store.PlaceSession(new PlacementRequest("other", SessionsPolicy.Instance)));
        var finished = await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.Same(other, finished);
        Assert.False(custom.IsCompleted);

        File.WriteAllText(_dir.File("go"), "");
        var placed = await custom;
        Assert.Equal("node2.example.com:8787", placed.Node);
        Assert.Equal("custom", placed.Decision!.Method);
        Assert.Contains("the custom script chose", placed.Decision.Reason);
        ClusterStoreTests.AssertCountersMatchRows(store);
    }

    [Fact]
    public async Task ANodeThatGoesOfflineWhileTheScriptDecidesIsNotUsed()
    {
        var store = pg.NewStore().WithNodes(2);
        var custom = Task.Run(() => store.PlaceSession(new PlacementRequest("scripted", WaitingScript())));
        WaitFor("started");
        using (var connection = store.DataSource.OpenConnection())
        using (var stop = new NpgsqlCommand("UPDATE wbadmin.node SET last_seen = now() - interval '1 hour' WHERE host = 'node2.example.com'", connection))
            stop.ExecuteNonQuery();
        File.WriteAllText(_dir.File("go"), "");

        var e = await Assert.ThrowsAsync<WbException>(() => custom);
        Assert.Equal(("ChosenNodeWentOffline", WbErrorCategory.ResourceUnavailable), (e.ErrorId, e.Category));
        Assert.Contains("node2.example.com:8787", e.Message);
        Assert.Empty(store.GetSessions(new SessionFilter { IncludeEnded = true }));
    }

    [Fact]
    public async Task ANodeDrainedWhileTheScriptDecidesIsNotUsed()
    {
        var store = pg.NewStore().WithNodes(2);
        var custom = Task.Run(() => store.PlaceSession(new PlacementRequest("scripted", WaitingScript())));
        WaitFor("started");
        store.SetDraining(2, true, ClusterStore.DefaultOfflineAfter);
        File.WriteAllText(_dir.File("go"), "");

        var e = await Assert.ThrowsAsync<WbException>(() => custom);
        Assert.Equal(("ChosenNodeDraining", WbErrorCategory.ResourceUnavailable), (e.ErrorId, e.Category));
        Assert.Empty(store.GetSessions(new SessionFilter { IncludeEnded = true }));
    }

    [Fact]
    public async Task ANodeThatFillsUpWhileTheScriptDecidesIsNotUsed()
    {
        var store = pg.NewStore().WithNodes(2);
        var options = new BalancingOptions { MaxSessionsPerNode = 1 };
        var custom = Task.Run(() => store.PlaceSession(new PlacementRequest("scripted", WaitingScript()) { Options = options }));
        WaitFor("started");
        // Meanwhile another placement fills node2 (node1 is drained so it must go there).
        store.SetDraining(1, true, ClusterStore.DefaultOfflineAfter);
        Assert.Equal(2, store.PlaceSession(new PlacementRequest("other", SessionsPolicy.Instance) { Options = options }).NodeId);
        File.WriteAllText(_dir.File("go"), "");

        var e = await Assert.ThrowsAsync<WbException>(() => custom);
        Assert.Equal(("ChosenNodeFull", WbErrorCategory.LimitsExceeded), (e.ErrorId, e.Category));
        Assert.Single(store.GetSessions(new SessionFilter()));
    }
}
