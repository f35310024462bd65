using BenchmarkDotNet.Attributes;
using Npgsql;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// Get-WbSessionLoad on 1,000 nodes with 10,000 and 100,000 active sessions.
/// Targets at 100,000: per-node summary at most 10 ms, full listing at most 150 ms.
/// </summary>
public class SessionLoadBenchmarks
{
    private ThrowawayPostgres _server = null!;
    private ClusterStore _store = null!;
    private static readonly TimeSpan Forever = TimeSpan.FromDays(1);

    [Params(10_000, 100_000)]
    public int Sessions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _server = ThrowawayPostgres.Start();
        _store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = _server.ConnectionString() }));
        _store.Initialize();
        using var connection = _store.DataSource.OpenConnection();
        using var fill = new NpgsqlCommand($"""
            INSERT INTO wbadmin.cluster (key_hash, protocol) VALUES ('k', 'http');
            INSERT INTO wbadmin.node (host, ipv4, port, status, key_hash, protocol, cores, load1, load5, load15)
                SELECT 'node' || g || '.cluster.example.com', '10.1.' || (g / 250) || '.' || (g % 250 + 1), 8787, 'Online', 'k', 'http', 8,
                       random() * 4, random() * 4, random() * 4
                FROM generate_series(1, 1000) g;
            INSERT INTO wbadmin.session (node_id, pid, username)
                SELECT 1 + (g % 1000), 10000 + g, 'user' || (g % 5000) FROM generate_series(1, {Sessions}) g;
            UPDATE wbadmin.node n SET active_sessions = c.k
                FROM (SELECT node_id, count(*)::int AS k FROM wbadmin.session GROUP BY node_id) c WHERE c.node_id = n.id;
            ANALYZE;
            """, connection);
        fill.CommandTimeout = 600;
        fill.ExecuteNonQuery();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        ClusterStoreCleanup();
        _server.Dispose();
    }

    private void ClusterStoreCleanup() => _store.DataSource.Dispose();

    [Benchmark]
    public int Summary() => _store.GetSessionLoad(includeSessions: false, Forever).Count;

    [Benchmark]
    public int FullListing() => _store.GetSessionLoad(includeSessions: true, Forever).Count;
}
