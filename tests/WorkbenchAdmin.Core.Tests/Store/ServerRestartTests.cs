using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Store;
using static WorkbenchAdmin.Core.Tests.Store.StoreTestNodes;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>The server killed in the middle of placements, then started again: its own server, since it is killed.</summary>
public class ServerRestartTests
{
    [Fact]
    public async Task EachCallCompletesOrFailsClearlyAndCallsSucceedAgainAfterARestart()
    {
        using var server = ThrowawayPostgres.Start();
        var store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = server.ConnectionString() + ";Timeout=5;Command Timeout=10" }));
        store.Initialize();
        store.WithNodes(3);

        var succeeded = new System.Collections.Concurrent.ConcurrentBag<long>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<WbException>();
        var unexpected = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                try { succeeded.Add(store.PlaceSession(new PlacementRequest($"w{w}-{i++}", SessionsPolicy.Instance)).Id); }
                catch (WbException e) { failures.Add(e); Thread.Sleep(20); }
                catch (Exception e) { unexpected.Add(e); }
            }
        })).ToArray();

        Thread.Sleep(500);
        server.Kill();
        // A call made while the server is down fails clearly. The workers' calls may all succeed: when the kill finds all
        // four in one batch whose COMMIT went out, that batch waits for the server and is settled as recorded.
        var down = Assert.Throws<WbException>(() => store.PlaceSession(new PlacementRequest("while-down", SessionsPolicy.Instance)));
        failures.Add(down);
        Thread.Sleep(500);
        server.StartServer();
        Thread.Sleep(1500);
        stop.Cancel();
        await Task.WhenAll(workers);

        Assert.Empty(unexpected);
        Assert.All(failures, e =>
        {
            Assert.Equal(WbErrorCategory.ConnectionError, e.Category);
            Assert.Contains($"127.0.0.1:{server.Port}", e.Message);
        });

        // After the restart the same store (same pool, no re-import) works again...
        var after = store.PlaceSession(new PlacementRequest("after-restart", SessionsPolicy.Instance));
        Assert.True(after.Id > 0);
        // ...and nothing is half-written: every reported success is recorded, and the counters agree with the rows.
        var recorded = store.GetSessions(new SessionFilter()).Select(s => s.Id).ToHashSet();
        Assert.All(succeeded, id => Assert.Contains(id, recorded));
        ClusterStoreTests.AssertCountersMatchRows(store);
    }
}
