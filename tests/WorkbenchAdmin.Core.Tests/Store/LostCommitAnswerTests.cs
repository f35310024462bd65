using Npgsql;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using static WorkbenchAdmin.Core.Tests.Store.StoreTestNodes;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>
/// Real connections lost while a placement's COMMIT is on its way, through a relay that cuts them: the write and its
/// COMMIT travel in one round trip, so the answer and the rows it returns are lost together, and the placement is
/// settled by its token on a new connection. Both ways: committed (the caller gets its session, recorded once) and not
/// (an error, and nothing written, even once the old transaction could have gone on).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LostCommitAnswerTests(PostgresFixture pg)
{
    private static (ClusterStore Direct, ClusterStore Relayed, CuttableProxy Proxy) Stores(PostgresFixture pg)
    {
        var direct = pg.NewStore().WithNodes(3);
        var proxy = new CuttableProxy(new NpgsqlConnectionStringBuilder(direct.Target.ConnectionString).Port);
        var relayed = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest
        {
            ConnectionString = new NpgsqlConnectionStringBuilder(direct.Target.ConnectionString) { Port = proxy.Port }.ConnectionString,
        }));
        return (direct, relayed, proxy);
    }

    [Theory]
    [InlineData(false)] // the store's first placement: two round trips, COMMIT with the write
    [InlineData(true)]  // it placed last: one round trip, BEGIN to COMMIT
    public void ACommittedPlacementWhoseAnswerIsLostIsReturnedAndRecordedOnce(bool oneTrip)
    {
        var (direct, relayed, proxy) = Stores(pg);
        using var _ = proxy;
        if (oneTrip) relayed.PlaceSession(new PlacementRequest("before", SessionsPolicy.Instance));
        proxy.DropCommitAnswer = true;
        var session = relayed.PlaceSession(new PlacementRequest("lost-answer", SessionsPolicy.Instance));
        Assert.Equal(1, proxy.Dropped);
        var recorded = direct.GetSessions(new SessionFilter { UserName = ["lost-answer"] });
        Assert.Equal([(session.Id, session.Pid, session.NodeId)], recorded.Select(s => (s.Id, s.Pid, s.NodeId)));
        // The next placement goes on as usual, and nothing was recorded twice.
        relayed.PlaceSession(new PlacementRequest("after", SessionsPolicy.Instance));
        Assert.Equal(oneTrip ? 3 : 2, direct.GetSessions(new SessionFilter()).Count);
        ClusterStoreTests.AssertCountersMatchRows(direct);
    }

    [Fact]
    public void APlacementCutWhileItsTransactionCouldStillCommitFailsAndWritesNothing()
    {
        var (direct, relayed, proxy) = Stores(pg);
        using var _ = proxy;
        relayed.PlaceSession(new PlacementRequest("before", SessionsPolicy.Instance)); // so the next is one round trip
        // The placement lock held elsewhere: the one-trip placement's BEGIN, write and COMMIT all reach the server and
        // wait for it. The connection is then cut: the server cannot tell, and its backend would commit once the lock is
        // free, after the caller was told it failed, unless the settlement ends it first.
        using var hold = direct.DataSource.OpenConnection();
        using (var lockIt = new NpgsqlCommand($"SELECT pg_advisory_lock({ClusterStore.ClusterLock})", hold)) lockIt.ExecuteNonQuery();
        Exception? error = null;
        var placing = new Thread(() =>
        {
            try { relayed.PlaceSession(new PlacementRequest("cut", SessionsPolicy.Instance)); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true };
        placing.Start();
        OneBatch.Until(() => OneBatch.Scalar(hold, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 1, "the placement waits on the lock");
        proxy.CutAll();
        Assert.True(placing.Join(TimeSpan.FromSeconds(20)), "the placement did not end");
        using (var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({ClusterStore.ClusterLock})", hold)) unlock.ExecuteNonQuery();

        var wb = Assert.IsType<WbException>(error);
        Assert.Equal(WbErrorCategory.ConnectionError, wb.Category);
        Assert.Equal("DatabaseUnreachable", wb.ErrorId);
        Thread.Sleep(500); // time for a surviving transaction to commit, were there one
        Assert.Empty(direct.GetSessions(new SessionFilter { UserName = ["cut"] }));
        Assert.Equal(0, OneBatch.Scalar(hold, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"));
        Assert.Equal("u1", relayed.PlaceSession(new PlacementRequest("u1", SessionsPolicy.Instance)).UserName);
        ClusterStoreTests.AssertCountersMatchRows(direct);
    }

    [Fact]
    public void TheSettlementEndsOnlyABackendWithTheSameProcessIdAndStartTime()
    {
        var store = pg.NewStore();
        // A live connection holding the process id a lost backend of ours once had (after a restart or a cut): it may be
        // anyone's on the same database and role, Workbench's own included.
        using var other = store.DataSource.OpenConnection();
        var live = PlacementBatcher.Identify(other);
        Assert.Same(live, PlacementBatcher.Identify(other)); // asked once per physical connection
        using var settling = store.DataSource.OpenConnection();
        bool End(PlacementBatcher.Backend backend)
        {
            using var end = new NpgsqlBatch(settling) { BatchCommands = { PlacementBatcher.EndBackend(backend) } };
            return (bool)end.ExecuteScalar()!;
        }

        // Same id, started a microsecond apart: ours is gone, and the other is left alone.
        Assert.True(End(live with { Started = live.Started.AddTicks(-10) }));
        Assert.Equal(1, OneBatch.Scalar(other, "SELECT 1::bigint"));
        // Same id and start time: it is ours, and it is ended.
        Assert.True(End(live));
        Assert.ThrowsAny<NpgsqlException>(() => OneBatch.Scalar(other, "SELECT 1::bigint"));
    }
}
