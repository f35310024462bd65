using System.Diagnostics;
using System.Globalization;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using static WorkbenchAdmin.Core.Tests.Store.StoreTestNodes;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>
/// Placements from several OS processes at once, one per node as on a real cluster, each with its own batcher and
/// connection pool: only the database's lock and the write's check on the rows keep them consistent.
/// </summary>
[Collection(PostgresCollection.Name)]
public class MultiProcessPlacementTests(PostgresFixture pg)
{
    internal const string WorkerVerb = "placement-worker";
    private const string ConnectionVariable = "WB_TEST_PLACEMENT_CONNECTION";

    [Fact]
    public void SeveralProcessesPlaceExactlyTheirSessionsEvenly()
    {
        var store = pg.NewStore().WithNodes(4);
        const int processes = 4, threads = 3, each = 20;
        var startAt = DateTimeOffset.UtcNow.AddSeconds(3).ToUnixTimeMilliseconds(); // all start placing together, once warm
        var workers = Enumerable.Range(0, processes).Select(p =>
        {
            var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in new[] { typeof(Program).Assembly.Location, WorkerVerb, $"p{p}", $"{threads}", $"{each}", $"{startAt}" }) info.ArgumentList.Add(a);
            info.Environment[ConnectionVariable] = store.Target.ConnectionString; // not on the command line: it may hold a password
            return Process.Start(info)!;
        }).ToList();
        var outputs = workers.Select(w =>
        {
            var stderr = w.StandardError.ReadToEndAsync();
            var stdout = w.StandardOutput.ReadToEnd();
            if (!w.WaitForExit(TimeSpan.FromSeconds(120))) { w.Kill(); throw new TimeoutException("a placement worker did not finish in 120 s"); }
            Assert.True(w.ExitCode == 0, $"worker exit {w.ExitCode}: {stderr.Result}");
            return stdout;
        }).ToList();

        // Every process placed exactly what it asked for, each session once, and the counts still spread evenly.
        const int total = processes * threads * each;
        var ids = outputs.SelectMany(o => o.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(long.Parse).ToList();
        Assert.Equal(total, ids.Count);
        Assert.Equal(total, ids.Distinct().Count());
        var sessions = store.GetSessions(new SessionFilter());
        Assert.Equal(total, sessions.Count);
        Assert.Equal(ids.Order(), sessions.Select(s => s.Id).Order());
        Assert.Equal(total, sessions.Select(s => s.UserName).Distinct(StringComparer.Ordinal).Count());
        var perNode = store.GetNodes(ClusterStore.DefaultOfflineAfter).Select(n => n.ActiveSessions).ToList();
        Assert.Equal(total, perNode.Sum());
        Assert.True(perNode.Max() - perNode.Min() <= 1, string.Join(",", perNode));
        ClusterStoreTests.AssertCountersMatchRows(store);
    }

    [Fact]
    public void AStoreThatPlacedLastStillSeesWhatAnotherPlacedSince()
    {
        // Two stores on one database stand for two processes: each decides its next placement from the rows it read at
        // its own last commit, and the write must notice that the other placed in between.
        var a = pg.NewStore().WithNodes(2);
        var b = new ClusterStore(a.Target);
        Assert.Equal(1, a.PlaceSession(new PlacementRequest("u1", SessionsPolicy.Instance)).NodeId);
        Assert.Equal([2, 1, 2], new[] { "u2", "u3", "u4" }.Select(u => b.PlaceSession(new PlacementRequest(u, SessionsPolicy.Instance)).NodeId));
        // From its own last read (1 and 0 sessions) a would choose node 2; the nodes now have 2 and 2, so node 1.
        var u5 = a.PlaceSession(new PlacementRequest("u5", SessionsPolicy.Instance));
        Assert.Equal(1, u5.NodeId);
        Assert.Equal([2, 2], u5.Decision!.Candidates.Select(c => c.ActiveSessions));
        Assert.Equal([3, 2], a.GetNodes(ClusterStore.DefaultOfflineAfter).Select(n => n.ActiveSessions));
        ClusterStoreTests.AssertCountersMatchRows(a);
    }

    /// <summary>One worker process: <c>prefix threads each startAtUnixMs</c>; prints the id of every session it placed.</summary>
    internal static int Worker(string[] args)
    {
        var (prefix, threads, each) = (args[0], int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
        var startAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(args[3], CultureInfo.InvariantCulture));
        var store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = Environment.GetEnvironmentVariable(ConnectionVariable) }));
        store.GetNodes(ClusterStore.DefaultOfflineAfter); // connect and load before the start, so the processes overlap
        var wait = startAt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
        var ids = new long[threads * each];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (var i = 0; i < each; i++)
                ids[t * each + i] = store.PlaceSession(new PlacementRequest($"{prefix}-{t}-{i}", SessionsPolicy.Instance)).Id;
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Console.Out.Write(string.Join('\n', ids));
        return 0;
    }
}
