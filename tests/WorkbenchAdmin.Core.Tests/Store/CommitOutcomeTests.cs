using Npgsql;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using static WorkbenchAdmin.Core.Tests.Store.StoreTestNodes;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>
/// A connection that breaks while a placement commits (found on the network-namespace cluster: PostgreSQL restarted
/// under 300 placements, one was reported failed to its caller yet recorded, and its retry recorded it twice). The
/// server's answer is what counts: committed means placed, exactly once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitOutcomeTests(PostgresFixture pg)
{
    private static NpgsqlException LostConnection() =>
        new("Exception while reading from stream (simulated: the connection broke during COMMIT)", new IOException("Connection reset by peer"));

    [Fact]
    public void ACommitWhoseAnswerIsLostIsAPlacementNotAnError()
    {
        var store = pg.NewStore().WithNodes(2);
        store.CommitHook = tx => { tx.Commit(); throw LostConnection(); };
        var session = store.PlaceSession(new PlacementRequest("lost-answer", SessionsPolicy.Instance));
        store.CommitHook = null;
        var recorded = store.GetSessions(new SessionFilter { UserName = ["lost-answer"] });
        Assert.Equal([session.Id], recorded.Select(s => s.Id));
        ClusterStoreTests.AssertCountersMatchRows(store);
    }

    [Fact]
    public void ACommitThatDidNotHappenIsStillAConnectionErrorAndWritesNothing()
    {
        var store = pg.NewStore().WithNodes(2);
        store.CommitHook = tx => { tx.Rollback(); throw LostConnection(); };
        var e = Assert.Throws<WbException>(() => store.PlaceSession(new PlacementRequest("rolled-back", SessionsPolicy.Instance)));
        store.CommitHook = null;
        Assert.Equal(WbErrorCategory.ConnectionError, e.Category);
        Assert.Equal("DatabaseUnreachable", e.ErrorId);
        Assert.Empty(store.GetSessions(new SessionFilter { UserName = ["rolled-back"] }));
        ClusterStoreTests.AssertCountersMatchRows(store);
    }

    [Fact]
    public void EveryCallerOfALostAnswerBatchGetsItsSession()
    {
        var store = pg.NewStore().WithNodes(3);
        store.CommitHook = tx => { tx.Commit(); throw LostConnection(); };
        var placed = Enumerable.Range(0, 12).AsParallel().WithDegreeOfParallelism(12)
            .Select(i => store.PlaceSession(new PlacementRequest($"batch{i}", SessionsPolicy.Instance)).Id).ToList();
        store.CommitHook = null;
        Assert.Equal(placed.Order(), store.GetSessions(new SessionFilter()).Select(s => s.Id).Order());
        ClusterStoreTests.AssertCountersMatchRows(store);
    }
}
