using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Store;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Testing;

namespace WorkbenchAdmin.Core.Tests.Live;

/// <summary>The decision service answers within what its caller waits for it (half the deadline), whatever a source does.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DecisionServiceDeadlineTests(PostgresFixture pg) : IDisposable
{
    private const string Nodes = "node1.example.com:8787,node2.example.com:8787,node3.example.com:8787";
    private readonly List<DatabaseTarget> _targets = [];

    public void Dispose() => _targets.ForEach(DataSources.Release);

    [Fact]
    public void AHangingStatusPageCostsTheCallerOneWaitAndTheStoreStillDecides()
    {
        var target = pg.NewTarget();
        _targets.Add(target);
        var store = new ClusterStore(target);
        store.Initialize();
        store.WithNodes(3);
        store.SetDraining(2, true, ClusterStore.DefaultOfflineAfter);
        using var page = new StatusPageServer("") { Hang = true };
        using var b = new InstalledBalancer(target, "method=sessions\ndeadline-ms=2000", page.Uri);
        using var service = DecisionService.Start(b.ProgramPath, TextWriter.Null);
        var runs = Enumerable.Range(0, 5).Select(i => b.Run($"user{i}", Nodes)).ToList();
        Assert.All(runs, r =>
        {
            Assert.Equal(0, r.Exit);
            Assert.NotEqual("node2.example.com:8787\n", r.Out);
            // Answered by the service (its message names the page, none says the service was left), within the caller's wait.
            Assert.Contains("status page", r.Error);
            Assert.DoesNotContain("decision service", r.Error);
            Assert.True(r.Elapsed < TimeSpan.FromMilliseconds(1000), $"{r.Elapsed.TotalMilliseconds:0} ms: {r.Error}");
        });
        Assert.Equal(5, service.Served);
    }
}
