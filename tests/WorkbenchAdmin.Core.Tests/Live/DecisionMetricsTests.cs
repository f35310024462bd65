using System.Diagnostics;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Store;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Live;

/// <summary>The decision service's metrics, read from its socket as a scraper (or rserver-balancer --metrics) reads them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DecisionMetricsTests(PostgresFixture pg) : IDisposable
{
    private const string Nodes = "node1.example.com:8787,node2.example.com:8787,node3.example.com:8787";
    private readonly List<DatabaseTarget> _targets = [];

    public void Dispose() => _targets.ForEach(DataSources.Release);

    private (ClusterStore Store, InstalledBalancer Balancer) Cluster(string policy)
    {
        var target = pg.NewTarget();
        _targets.Add(target);
        var store = new ClusterStore(target);
        store.Initialize();
        store.WithNodes(3);
        return (store, new InstalledBalancer(target, policy));
    }

    [Fact]
    public void DecisionsFallbacksAndRefusalsAreCountedByPolicyNodeAndReason()
    {
        var (store, b) = Cluster("method=consistent-hash\nmax-sessions-per-node=1");
        using var _ = b;
        using var service = DecisionService.Start(b.ProgramPath, TextWriter.Null);
        var chosen = Enumerable.Range(0, 12).Select(i => b.Run($"user{i}", Nodes).Out.TrimEnd('\n')).ToList();
        foreach (var node in new[] { 1, 2, 3 }) store.SetDraining(node, true, ClusterStore.DefaultOfflineAfter);
        Assert.Equal(1, b.Run("bob", Nodes).Exit); // every node drained: refused
        var text = DecisionClient.Metrics(b.ServiceSocket, TimeSpan.FromSeconds(10));
        Assert.NotNull(text);
        foreach (var node in chosen.Distinct())
            Assert.Contains($"wbadmin_balancer_decisions_total{{policy=\"consistent-hash\",node=\"{node}\"}} {chosen.Count(c => c == node)}\n", text);
        Assert.Contains("wbadmin_balancer_refusals_total{exit_code=\"1\"} 1\n", text);
        Assert.Contains("wbadmin_balancer_decision_duration_seconds_count 13\n", text);
        Assert.Contains("wbadmin_balancer_data_source_duration_seconds_count 13\n", text);
        Assert.Contains("wbadmin_balancer_fallbacks_total{reason=\"no-live-data\"} 0\n", text);
        var counts = DecisionMetrics.ParseCounts(text);
        Assert.Equal((12, 0, 1), (counts.Decisions, counts.Fallbacks, counts.Refusals));
        Assert.Equal(13, service.Served); // the refusal is a call too; the metrics request is not
    }

    [Fact]
    public void AFallbackIsCountedByItsReason()
    {
        var (_, b) = Cluster("method=system-load");
        using var __ = b;
        // No store and no status page: no live data, so consistent-hash decides.
        File.Delete(Path.Combine(b.ConfigRoot, "database.conf"));
        using var service = DecisionService.Start(b.ProgramPath, TextWriter.Null);
        Assert.Equal(0, b.Run("alice", Nodes).Exit);
        var text = DecisionClient.Metrics(b.ServiceSocket, TimeSpan.FromSeconds(10))!;
        Assert.Contains("wbadmin_balancer_fallbacks_total{reason=\"no-live-data\"} 1\n", text);
        Assert.Matches("wbadmin_balancer_decisions_total\\{policy=\"consistent-hash\",node=\"node[123].example.com:8787\"\\} 1\n", text);
    }

    [Fact]
    public void StoreConnectionsInUseAreShown()
    {
        var (_, b) = Cluster("method=sessions");
        using var __ = b;
        using var service = DecisionService.Start(b.ProgramPath, TextWriter.Null);
        Assert.Equal(0, b.Run("alice", Nodes).Exit);
        var text = DecisionClient.Metrics(b.ServiceSocket, TimeSpan.FromSeconds(10))!;
        // The service keeps a connection open between calls (MinPoolSize 1): at least that one is idle now. (Npgsql counts
        // every pool of the process: other tests running beside this one may add theirs, idle or in use.)
        Assert.Matches("wbadmin_balancer_store_connections\\{state=\"idle\"\\} [1-9][0-9]*\n", text);
        Assert.Matches("wbadmin_balancer_store_connections\\{state=\"used\"\\} [0-9]+\n", text);
    }

    [ToolFact("/usr/bin/promtool", "prometheus")]
    public void PromtoolAcceptsTheMetrics()
    {
        var (store, b) = Cluster("method=bounded-hash");
        using var _ = b;
        using var service = DecisionService.Start(b.ProgramPath, TextWriter.Null);
        foreach (var i in Enumerable.Range(0, 5)) b.Run($"user{i}", Nodes);
        var text = DecisionClient.Metrics(b.ServiceSocket, TimeSpan.FromSeconds(10))!;
        var check = new ProcessStartInfo("/usr/bin/promtool", ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var promtool = Process.Start(check)!;
        promtool.StandardInput.Write(text);
        promtool.StandardInput.Close();
        var output = promtool.StandardOutput.ReadToEndAsync();
        var error = promtool.StandardError.ReadToEnd();
        Assert.True(promtool.WaitForExit(30_000), "promtool did not finish within 30 s");
        Assert.True(promtool.ExitCode == 0, $"promtool check metrics exited {promtool.ExitCode}: {output.Result}{error}\n{text}");
    }
}
