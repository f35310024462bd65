using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>Draining a node in the store: every placement after it, by every method, leaves the node out; its sessions run on.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DrainTests(PostgresFixture pg)
{
    private static readonly TimeSpan Offline = ClusterStore.DefaultOfflineAfter;

    [Fact]
    public void ConcurrentPlacementsNeverChooseADrainedNodeByAnyMethod()
    {
        var store = pg.NewStore().WithNodes(3);
        store.PlaceSession(new PlacementRequest("before", SessionsPolicy.Instance)); // on node 1, which then drains
        var drained = store.SetDraining(1, draining: true, Offline)!;
        Assert.True(drained.Draining);
        Assert.Equal(1, drained.ActiveSessions); // its running session is untouched

        string[] methods = ["sessions", "user-hash", "consistent-hash", "bounded-hash"];
        // Callers on threads of their own, as PowerShell's runspaces are (many thread-pool callers at once stall placement: a known limit).
        var placed = new SessionInfo[40];
        var callers = Enumerable.Range(0, placed.Length).Select(i => new Thread(() =>
            placed[i] = store.PlaceSession(new PlacementRequest($"user{i}", BalancingPolicies.Create(methods[i % methods.Length]))))).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());
        Assert.DoesNotContain(placed, s => s.NodeId == 1);
        Assert.Equal(1, store.GetNodes(Offline).Single(n => n.Id == 1).ActiveSessions);
    }

    [Fact]
    public void AResumedNodeTakesSessionsAgain()
    {
        var store = pg.NewStore().WithNodes(2);
        store.SetDraining(1, true, Offline);
        Assert.Equal(2, store.PlaceSession(new PlacementRequest("a", SessionsPolicy.Instance)).NodeId);
        var resumed = store.SetDraining(1, false, Offline)!;
        Assert.False(resumed.Draining);
        Assert.Null(resumed.DrainingSince);
        Assert.Equal(1, store.PlaceSession(new PlacementRequest("b", SessionsPolicy.Instance)).NodeId);
    }

    [Fact]
    public void DrainingTwiceKeepsWhenItStarted()
    {
        var store = pg.NewStore().WithNodes(1);
        var first = store.SetDraining(1, true, Offline)!.DrainingSince;
        Thread.Sleep(20);
        Assert.Equal(first, store.SetDraining(1, true, Offline)!.DrainingSince);
    }

    [Fact]
    public void WhenEveryNodeIsDrainingAPlacementFailsAndWritesNothing()
    {
        var store = pg.NewStore().WithNodes(2);
        store.SetDraining(1, true, Offline);
        store.SetDraining(2, true, Offline);
        var e = Assert.Throws<WbException>(() => store.PlaceSession(new PlacementRequest("u", SessionsPolicy.Instance)));
        Assert.Equal("AllNodesDraining", e.ErrorId);
        Assert.Empty(store.GetSessions(new SessionFilter()));
    }

    [Fact]
    public void TheOperationDrainsByIdAndAddressAsksFirstAndReportsUnknownNodes()
    {
        var store = pg.NewStore().WithNodes(3);
        var connection = pg.Server.ConnectionString(store.Target.Database);
        var host = new RecordingHost();
        NodeOperations.SetDraining(new DrainNodeRequest
        {
            ConnectionString = connection, Id = [1, 9], HostName = ["node2.*"], Draining = true, PassThru = true,
        }, host);
        Assert.Equal([1, 2], host.ObjectsOf<NodeInfo>().Select(n => n.Id));
        Assert.All(host.ObjectsOf<NodeInfo>(), n => Assert.True(n.Draining));
        Assert.Equal("NodeNotFound", Assert.Single(host.Errors).ErrorId);
        Assert.Equal(2, host.ShouldProcessCalls.Count);
        Assert.StartsWith("Drain: take no new sessions", host.ShouldProcessCalls[0].Action);

        var declined = new RecordingHost(confirm: false);
        NodeOperations.SetDraining(new DrainNodeRequest { ConnectionString = connection, Id = [3], Draining = true }, declined);
        Assert.False(store.GetNodes(Offline).Single(n => n.Id == 3).Draining); // -WhatIf: nothing changed
    }
}
