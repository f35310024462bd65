using WorkbenchAdmin.Core.Formats;
using Npgsql;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using static WorkbenchAdmin.Core.Tests.Store.StoreTestNodes;

namespace WorkbenchAdmin.Core.Tests.Store;

[Collection(PostgresCollection.Name)]
public class ClusterStoreTests(PostgresFixture pg)
{
    private static readonly TimeSpan Timeout = ClusterStore.DefaultOfflineAfter;

    private static void Exec(ClusterStore store, string sql)
    {
        using var connection = store.DataSource.OpenConnection();
        using var cmd = new NpgsqlCommand(sql, connection);
        cmd.ExecuteNonQuery();
    }

    private static T Scalar<T>(ClusterStore store, string sql)
    {
        using var connection = store.DataSource.OpenConnection();
        using var cmd = new NpgsqlCommand(sql, connection);
        return (T)cmd.ExecuteScalar()!;
    }

    [Fact]
    public void InitializeCreatesTheSchemaOnceAndIsSafeToRepeat()
    {
        var store = pg.NewStore(initialize: false);
        Assert.Equal(Schema.Migrations.Select(m => m.Version), store.Initialize().Select(m => m.Version));
        Assert.Empty(store.Initialize());
        Assert.Equal((long)Schema.Migrations.Count, Scalar<long>(store, "SELECT count(*) FROM wbadmin.schema_version"));
    }

    [Fact]
    public void AStoreNeverInitializedOrFromAnOlderModuleSaysToRunInitializeAndIsUpgradedInPlace()
    {
        var store = pg.NewStore(initialize: false);
        var missing = Assert.Throws<WbException>(() => store.GetNodes(Timeout));
        Assert.Equal(("DatabaseSchemaOutdated", WbErrorCategory.NotInstalled), (missing.ErrorId, missing.Category));
        Assert.Contains("run Initialize-WbDatabase", missing.Message);

        // A store as the module before placement tokens left it (schema version 3), with a session in it.
        store.Initialize();
        store.ReportNode(Node(1), Report(), mustExist: false, Timeout);
        store.PlaceSession(new PlacementRequest("before", SessionsPolicy.Instance));
        Exec(store, "ALTER TABLE wbadmin.session DROP COLUMN token; DELETE FROM wbadmin.schema_version WHERE version = 4");
        store.DataSource.Clear(); // new connections: the pooled ones prepared the placement statements against the newer table
        var older = Assert.Throws<WbException>(() => store.PlaceSession(new PlacementRequest("after", SessionsPolicy.Instance)));
        Assert.Equal("DatabaseSchemaOutdated", older.ErrorId);
        Assert.Contains("42703", older.Message);
        Assert.Contains($"version {Schema.LatestVersion}", older.Message);

        Assert.Equal([4], store.Initialize().Select(m => m.Version));
        store.PlaceSession(new PlacementRequest("after", SessionsPolicy.Instance));
        Assert.Equal(["after", "before"], store.GetSessions(new SessionFilter()).Select(x => x.UserName).Order());
    }

    [Fact]
    public void ASchemaChangedByHandIsDamagedNotOutdated_SoInitializeDoesNotSendItsCallerRoundInALoop()
    {
        var store = pg.NewStore();
        // Version 4 forgotten and the table it alters dropped: the migration meets a table the recorded versions made.
        Exec(store, "DROP TABLE wbadmin.session; DELETE FROM wbadmin.schema_version WHERE version = 4");
        var e = Assert.Throws<WbException>(() => store.Initialize());
        Assert.Equal(("DatabaseSchemaDamaged", WbErrorCategory.InvalidData), (e.ErrorId, e.Category));
        Assert.Contains("relation \"wbadmin.session\" does not exist", e.Message);
        Assert.DoesNotContain("run Initialize-WbDatabase", e.Message);
    }

    [Fact]
    public void ConcurrentInitializersFromSeparateConnectionsAreSafe()
    {
        var target = pg.NewTarget();
        // Separate data sources (as separate processes would have), all migrating at once.
        var stores = Enumerable.Range(0, 6)
            .Select(i => new ClusterStore(target with { ConnectionString = target.ConnectionString + $";Application Name=init{i}" })).ToList();
        var applied = new int[stores.Count];
        Parallel.For(0, stores.Count, i => applied[i] = stores[i].Initialize().Count);
        Assert.Equal(Schema.Migrations.Count, applied.Sum());
        Assert.Equal((long)Schema.Migrations.Count, Scalar<long>(stores[0], "SELECT count(*) FROM wbadmin.schema_version"));
    }

    [Fact]
    public void TheFirstNodeDefinesTheClusterAndMismatchesAreRecordedButNeverCandidates()
    {
        var store = pg.NewStore();
        var first = store.ReportNode(Node(1), Report(), mustExist: false, Timeout);
        Assert.Equal(NodeStatus.Online, first.Status);
        Assert.Equal((Key, "http"), (store.GetCluster()!.KeyHash, store.GetCluster()!.Protocol));

        Assert.Equal(NodeStatus.Online, store.ReportNode(Node(2), Report(), false, Timeout).Status);
        Assert.Equal(NodeStatus.InvalidKey, store.ReportNode(Node(3, key: OtherKey), Report(), false, Timeout).Status);
        Assert.Equal(NodeStatus.ProtocolMismatch, store.ReportNode(Node(4, protocol: "https"), Report(), false, Timeout).Status);

        var candidates = store.GetCandidates(Timeout);
        Assert.Equal([true, true, false, false], candidates.Nodes.ToArray().Select(c => c.Online));
        var nodes = store.GetNodes(Timeout);
        Assert.Equal(["node1.example.com:8787", "node2.example.com:8787", "node3.example.com:8787", "node4.example.com:8787"], nodes.Select(n => n.Address));
        Assert.Equal("10.0.0.3", nodes[2].IPv4Address);
    }

    [Fact]
    public void HeartbeatsUpdateLoadAndClockAndUnknownNodesAreNotFound()
    {
        var store = pg.NewStore().WithNodes(1);
        var beat = store.ReportNode(Node(1), Report(load5: 3.25, cores: 16) with { Clock = new OffsetClock(TimeSpan.FromSeconds(-42)) }, mustExist: true, Timeout);
        Assert.Equal((3.25, 16), (beat.Load5, beat.Cores));
        Assert.InRange(beat.ClockSkew!.Value.TotalSeconds, -50, -35);
        Assert.Equal("2025.09.0", beat.Version);

        var e = Assert.Throws<WbException>(() => store.ReportNode(Node(9), Report(), mustExist: true, Timeout));
        Assert.Equal(("NodeNotRegistered", WbErrorCategory.ObjectNotFound), (e.ErrorId, e.Category));
        Assert.Contains("Register-WbNode", e.Message);
    }

    [Fact]
    public void ANodeWhoseHeartbeatStopsGoesOfflineAndIsNeverChosen()
    {
        var store = pg.NewStore().WithNodes(3);
        Exec(store, "UPDATE wbadmin.node SET last_seen = now() - interval '5 minutes' WHERE host = 'node2.example.com'");
        Assert.Equal(NodeStatus.Offline, store.GetNodes(Timeout).Single(n => n.Host == "node2.example.com").Status);
        foreach (var method in new[] { "sessions", "system-load", "user-hash" })
        {
            for (var i = 0; i < 20; i++)
            {
                var s = store.PlaceSession(new PlacementRequest($"user{i}", BalancingPolicies.Create(method)));
                Assert.NotEqual("node2.example.com:8787", s.Node);
            }
        }
        // A longer timeout brings it back.
        Assert.Equal(NodeStatus.Online, store.GetNodes(TimeSpan.FromMinutes(10)).Single(n => n.Host == "node2.example.com").Status);
    }

    [Fact]
    public void TheGuidesAcceptanceTestFourSessionsSpreadTwoAndTwo()
    {
        var store = pg.NewStore().WithNodes(2);
        var sessions = Enumerable.Range(0, 4).Select(_ => store.PlaceSession(new PlacementRequest("user1", SessionsPolicy.Instance))).ToList();
        Assert.Equal(2, sessions.Count(s => s.Node == "node1.example.com:8787"));
        Assert.Equal(2, sessions.Count(s => s.Node == "node2.example.com:8787"));
        Assert.All(sessions, s => Assert.Contains("fewest active sessions", s.Decision!.Reason));
        var load = store.GetSessionLoad(includeSessions: true, Timeout);
        Assert.Equal([2, 2], load.Select(l => l.Sessions.Count));
        Assert.All(load.SelectMany(l => l.Sessions), s => Assert.Equal("user1", s.UserName));
    }

    [Fact]
    public void ADecisionShowsTheCountsItSawEvenAfterLaterPlacementsInItsBatch()
    {
        var store = pg.NewStore().WithNodes(2);
        foreach (var user in new[] { "u1", "u2", "u3" }) store.PlaceSession(new PlacementRequest(user, SessionsPolicy.Instance));
        // u4 makes it two sessions each; u5 is decided first in a batch with u6 to u8, which change the counts after it.
        var (first, batch) = OneBatch.Place(store, new PlacementRequest("u4", SessionsPolicy.Instance),
            new[] { "u5", "u6", "u7", "u8" }.Select(u => new PlacementRequest(u, SessionsPolicy.Instance)).ToList());
        Assert.Null(first.Error);
        Assert.All(batch, o => Assert.Null(o.Error));

        var u5 = batch[0].Session!.Decision!;
        Assert.Contains("fewest active sessions: 2", u5.Reason);
        Assert.Equal([2, 2], u5.Candidates.Select(c => c.ActiveSessions));
        Assert.Equal(2, u5.Chosen.ActiveSessions);
        Assert.Equal([4, 4], store.GetNodes(Timeout).Select(n => n.ActiveSessions));
    }

    [Fact]
    public void AUserNameWithALoneSurrogateIsRefusedAndFailsOnlyItsOwnPlacement()
    {
        var store = pg.NewStore().WithNodes(2);
        var users = new[] { "amy", "bob", "bad\uD800name", "cy", "\uDC00dan", "eve" };
        var (first, batch) = OneBatch.Place(store, new PlacementRequest("first", SessionsPolicy.Instance),
            users.Select(u => new PlacementRequest(u, SessionsPolicy.Instance)).ToList());
        Assert.Null(first.Error);
        foreach (var o in batch)
        {
            if (o.Request.UserName is "bad\uD800name" or "\uDC00dan")
            {
                Assert.Equal(("InvalidUserName", WbErrorCategory.InvalidArgument), (Assert.IsType<WbException>(o.Error).ErrorId, ((WbException)o.Error!).Category));
                Assert.Contains("lone surrogate", o.Error.Message);
                Assert.DoesNotContain(o.Error.Message, char.IsSurrogate); // shown escaped: it has no UTF-8 form to print
            }
            else
                Assert.True(o.Error is null, $"{o.Request.UserName}: {o.Error}");
        }
        Assert.Equal(["amy", "bob", "cy", "eve", "first"], store.GetSessions(new SessionFilter()).Select(s => s.UserName).Order(StringComparer.Ordinal));
        AssertCountersMatchRows(store);
        // A well-formed pair is a character like any other.
        Assert.Equal("\U0001F600", store.PlaceSession(new PlacementRequest("\U0001F600", SessionsPolicy.Instance)).UserName);
    }

    [Fact]
    public void AWriteThatFailsForOneRequestFailsOnlyThatRequest()
    {
        var store = pg.NewStore().WithNodes(2);
        // Any per-row failure of the insert (a constraint, a trigger, an encoding the server refuses) stands in here as a trigger.
        Exec(store, """
            CREATE FUNCTION wbadmin.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.username = 'poison' THEN RAISE EXCEPTION 'refused: %', NEW.username; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT ON wbadmin.session FOR EACH ROW EXECUTE FUNCTION wbadmin.refuse_poison();
            """);
        var (first, batch) = OneBatch.Place(store, new PlacementRequest("first", SessionsPolicy.Instance),
            new[] { "amy", "poison", "bob", "cy" }.Select(u => new PlacementRequest(u, SessionsPolicy.Instance)).ToList());
        Assert.Null(first.Error);
        foreach (var o in batch)
        {
            if (o.Request.UserName == "poison")
                Assert.Contains("refused: poison", Assert.IsType<WbException>(o.Error).Message);
            else
                Assert.True(o.Error is null, $"{o.Request.UserName}: {o.Error}");
        }
        Assert.Equal(["amy", "bob", "cy", "first"], store.GetSessions(new SessionFilter()).Select(s => s.UserName).Order(StringComparer.Ordinal));
        AssertCountersMatchRows(store);
        // Each decision saw the sessions recorded before it, and not the refused one.
        Assert.Equal([2, 2], store.GetNodes(Timeout).Select(n => n.ActiveSessions));
        Assert.Equal([0, 1, 1], batch.Where(o => o.Session is not null).Select(o => o.Session!.Decision!.Chosen.ActiveSessions));
    }

    [Fact]
    public void SixteenConcurrentCallersPlaceExactlyTheirSessionsEvenly()
    {
        var store = pg.NewStore().WithNodes(4);
        const int callers = 16, each = 100;
        var placed = new SessionInfo[callers * each];
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            for (var i = 0; i < each; i++)
                placed[c * each + i] = store.PlaceSession(new PlacementRequest($"u{c}-{i}", SessionsPolicy.Instance));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(callers * each, placed.Select(s => s.Id).Distinct().Count());
        Assert.Equal((long)(callers * each), Scalar<long>(store, "SELECT count(*) FROM wbadmin.session"));
        Assert.Equal((long)(callers * each), Scalar<long>(store, "SELECT count(DISTINCT username) FROM wbadmin.session"));
        var perNode = store.GetNodes(Timeout).Select(n => n.ActiveSessions).ToList();
        Assert.Equal(callers * each, perNode.Sum());
        Assert.True(perNode.Max() - perNode.Min() <= 1, string.Join(",", perNode));
        AssertCountersMatchRows(store);
    }

    internal static void AssertCountersMatchRows(ClusterStore store)
    {
        Assert.Equal(0L, Scalar<long>(store, """
            SELECT count(*) FROM wbadmin.node n
            WHERE n.active_sessions <> (SELECT count(*) FROM wbadmin.session s WHERE s.node_id = n.id AND s.ended IS NULL)
            """));
    }

    [Fact]
    public void EndingASessionFreesItsSlotOnce()
    {
        var store = pg.NewStore().WithNodes(2);
        var s = store.PlaceSession(new PlacementRequest("alice", SessionsPolicy.Instance) { Pid = 4242 });
        Assert.Equal(4242, s.Pid);
        var ended = store.EndSession(s.Id);
        Assert.NotNull(ended?.Ended);
        Assert.Null(store.EndSession(s.Id));
        Assert.Equal(0, store.GetNodes(Timeout).Sum(n => n.ActiveSessions));
        Assert.Empty(store.GetSessions(new SessionFilter()));
        Assert.Single(store.GetSessions(new SessionFilter { IncludeEnded = true, UserName = ["alice"] }));
        AssertCountersMatchRows(store);
    }

    [Fact]
    public void PidsAreAssignedWhenNotGivenAndSessionsFilter()
    {
        var store = pg.NewStore().WithNodes(2);
        var a = store.PlaceSession(new PlacementRequest("alice", SessionsPolicy.Instance));
        var b = store.PlaceSession(new PlacementRequest("bob", SessionsPolicy.Instance));
        Assert.NotEqual(a.Pid, b.Pid);
        Assert.Equal(["bob"], store.GetSessions(new SessionFilter { UserName = ["bob"] }).Select(s => s.UserName));
        Assert.Equal([a.Id], store.GetSessions(new SessionFilter { NodeId = [a.NodeId] }).Select(s => s.Id));
    }

    [Fact]
    public void NoOnlineNodeFailsThePlacementAndWritesNothing()
    {
        var store = pg.NewStore().WithNodes(1);
        Exec(store, "UPDATE wbadmin.node SET last_seen = now() - interval '1 hour'");
        var e = Assert.Throws<WbException>(() => store.PlaceSession(new PlacementRequest("alice", SessionsPolicy.Instance)));
        Assert.Equal("NoCandidateNode", e.ErrorId);
        Assert.Equal(0L, Scalar<long>(store, "SELECT count(*) FROM wbadmin.session"));
    }

    [Fact]
    public void RemovingANodeTakesItsSessionsAndResetClearsTheClusterRecord()
    {
        var store = pg.NewStore().WithNodes(2);
        var s = store.PlaceSession(new PlacementRequest("alice", SessionsPolicy.Instance));
        Assert.True(store.RemoveNode(s.NodeId));
        Assert.False(store.RemoveNode(s.NodeId));
        Assert.Empty(store.GetSessions(new SessionFilter { IncludeEnded = true }));

        Assert.True(store.ResetCluster());
        Assert.Null(store.GetCluster());
        // After a reset the next node to report defines the cluster again, even with another key.
        Assert.Equal(NodeStatus.Online, store.ReportNode(Node(7, key: OtherKey), Report(), false, Timeout).Status);
        Assert.Equal(OtherKey, store.GetCluster()!.KeyHash);
    }

    [Fact]
    public void SessionLoadListsEveryNodeWithItsSessionsOrASummary()
    {
        var store = pg.NewStore().WithNodes(3);
        for (var i = 0; i < 7; i++) store.PlaceSession(new PlacementRequest($"user{i % 2}", SessionsPolicy.Instance) { Pid = 1000 + i });
        var full = store.GetSessionLoad(true, Timeout);
        Assert.Equal([3, 2, 2], full.Select(n => n.SessionCount));
        Assert.Equal(new SessionEntry(1000, "user0"), full[0].Sessions[0]);
        var summary = store.GetSessionLoad(false, Timeout);
        Assert.Equal([3, 2, 2], summary.Select(n => n.SessionCount));
        Assert.All(summary, n => Assert.Empty(n.Sessions));
        var text = SessionLoadText.Format(full);
        Assert.StartsWith("node1.example.com:8787 -  Load: 0.55, 0.5, 0.45\n   1000 - user0\n", text);
        Assert.Equal(full.Select(n => n.Sessions.Count), SessionLoadText.Parse(text).Select(n => n.Sessions.Count));
    }
}
