using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Store;

/// <summary>The cluster record: defined by the first node that comes online.</summary>
public sealed record ClusterInfo(string KeyHash, string Protocol, DateTimeOffset CreatedAt);

/// <summary>A fingerprint to publish with a heartbeat and when it was taken (a Stopwatch timestamp), so the store dates it in its own clock, free of the node's skew.</summary>
public sealed record FingerprintReport(string Json, long TakenAt);

/// <summary>A fingerprint as the store holds it: the JSON, and when the node took it (in the store's clock).</summary>
public sealed record PublishedFingerprint(string Json, DateTimeOffset TakenAt);

/// <summary>
/// Cluster state in PostgreSQL: the cluster record, nodes and their heartbeats, and sessions. Every change
/// is one transaction; failures come back as errors naming the server. A connection-level failure clears
/// the pool, so that once the server is back the next call gets a fresh connection.
/// </summary>
public sealed class ClusterStore
{
    public static readonly TimeSpan DefaultOfflineAfter = TimeSpan.FromSeconds(30);
    /// <summary>Advisory lock key serialising cluster-record changes and session placement ("wbplace").</summary>
    internal const long ClusterLock = 0x7762706c616365;

    private const string NodeColumns = """
        n.id, n.host, n.ipv4, n.port,
        CASE WHEN n.status <> 'Online' THEN n.status
             WHEN n.last_seen < now() - make_interval(secs => @offline) THEN 'Offline'
             ELSE 'Online' END,
        n.last_seen, n.load1, n.load5, n.load15, n.cores, n.active_sessions, n.protocol, n.version, n.node_clock, n.registered_at,
        n.draining_since
        """;

    private readonly PlacementBatcher _placements;

    /// <param name="loadTypes">False for a process that makes one query and exits: see <see cref="DataSources.Get"/>.</param>
    public ClusterStore(DatabaseTarget target, bool loadTypes = true)
    {
        Target = target;
        DataSource = DataSources.Get(target, loadTypes);
        _placements = new PlacementBatcher(this);
    }

    /// <summary>A store on a data source its caller owns (the decision service's, kept apart from the module's cache).</summary>
    internal ClusterStore(DatabaseTarget target, NpgsqlDataSource dataSource)
    {
        Target = target;
        DataSource = dataSource;
        _placements = new PlacementBatcher(this);
    }

    public DatabaseTarget Target { get; }
    public NpgsqlDataSource DataSource { get; }

    private static readonly ILogger Log = Logging.CommandLog.For<ClusterStore>();

    /// <summary>Runs <paramref name="work"/> on a pooled connection, mapping failures to clear errors.</summary>
    internal T Use<T>(Func<NpgsqlConnection, T> work, CancellationToken cancel, [System.Runtime.CompilerServices.CallerMemberName] string operation = "")
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // A stoppable command opens with its token (a stop ends a slow connect); anything else opens
            // synchronously: blocking a thread-pool thread on an async open starves the pool under load.
            using var connection = cancel.CanBeCanceled
                ? DataSource.OpenConnectionAsync(cancel).AsTask().GetAwaiter().GetResult()
                : DataSource.OpenConnection();
            // Npgsql's synchronous calls take no token: on Ctrl+C the server cancels what this connection runs
            // (an advisory-lock wait, a slow query), and the transaction rolls back.
            // A cancel request that reaches the server before the statement does is ignored, so it is repeated
            // until the work ends; the pool is then cleared, so no late request can reach a reused connection.
            var backend = connection.ProcessID;
            // Not disposed here: the cancelling thread may still be waiting on it after this returns.
            var done = new CancellationTokenSource();
            // A thread of its own: a busy thread pool must not delay a stop.
            using var stop = cancel.Register(() => new Thread(() => CancelUntilDone(backend, done.Token)) { IsBackground = true }.Start());
            try
            {
                var result = work(connection);
                cancel.ThrowIfCancellationRequested();
                Log.LogInformation("{Operation} on {Host}:{Port}/{Database} in {Ms:0.0} ms", operation, Target.Host, Target.Port, Target.Database,
                    System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return result;
            }
            finally
            {
                done.Cancel();
                if (cancel.IsCancellationRequested) NpgsqlConnection.ClearPool(connection);
            }
        }
        catch (Exception e) when (e is not WbException and not OperationCanceledException && cancel.IsCancellationRequested)
        {
            throw new OperationCanceledException("The command was stopped.", e, cancel);
        }
        catch (Exception e) when (e is not WbException and not OperationCanceledException)
        {
            // Pooled connections to a server that went away are all dead: drop them, so the next call reconnects.
            if (DatabaseErrors.IsConnectionFailure(e)) DataSource.Clear();
            throw DatabaseErrors.Map(e, Target);
        }
    }

    private void CancelUntilDone(int backend, CancellationToken done)
    {
        while (!done.IsCancellationRequested)
        {
            CancelBackend(backend);
            done.WaitHandle.WaitOne(100);
        }
    }

    /// <summary>Asks the server to cancel what one backend runs; best effort, from another pooled connection.</summary>
    private void CancelBackend(int backend)
    {
        try
        {
            using var connection = DataSource.OpenConnection();
            using var cmd = Command(connection, "SELECT pg_cancel_backend(@pid)");
            cmd.Parameters.AddWithValue("pid", backend);
            cmd.ExecuteNonQuery();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            Log.LogDebug("Could not cancel backend {Pid}: {Message}", backend, e.Message);
        }
    }

    internal static NpgsqlCommand Command(NpgsqlConnection connection, string sql, NpgsqlTransaction? tx = null) =>
        new(sql, connection, tx);

    public IReadOnlyList<Migration> Initialize(CancellationToken cancel = default)
    {
        try { return Use(_ => Schema.MigrateAsync(DataSource).GetAwaiter().GetResult(), cancel); }
        catch (WbException e) when (e.ErrorId == WbErrorIds.DatabaseSchemaOutdated)
        {
            // A migration met a table or column missing that the versions recorded before it had made: telling the
            // caller to run Initialize-WbDatabase, the command that just failed, would send them round in a loop.
            throw new WbException("DatabaseSchemaDamaged", WbErrorCategory.InvalidData,
                $"{Target.Description}: the WorkbenchAdmin schema lacks what the migrations recorded in wbadmin.schema_version made " +
                $"({(e.InnerException as PostgresException)?.MessageText ?? e.Message}); it was changed outside this module. Restore the database from a backup.",
                Target.Description, e.InnerException);
        }
    }

    public ClusterInfo? GetCluster(CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, "SELECT key_hash, protocol, created_at FROM wbadmin.cluster");
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? new ClusterInfo(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)) : null;
    }, cancel);

    /// <summary>
    /// Registers (or, with <paramref name="mustExist"/>, heartbeats) a node. The first node to report
    /// defines the cluster; a node whose key hash or protocol differs is recorded as such and is never a
    /// candidate. Returns the node as Get-WbNode shows it.
    /// </summary>
    public NodeInfo ReportNode(NodeIdentity identity, NodeReport report, bool mustExist, TimeSpan offlineAfter, FingerprintReport? fingerprint = null, CancellationToken cancel = default) => Use(connection =>
    {
        using var tx = connection.BeginTransaction();
        using (var lockCmd = Command(connection, $"SELECT pg_advisory_xact_lock({ClusterLock})", tx)) lockCmd.ExecuteNonQuery();

        string? clusterKey = null, clusterProtocol = null;
        using (var read = Command(connection, "SELECT key_hash, protocol FROM wbadmin.cluster", tx))
        using (var reader = read.ExecuteReader())
        {
            if (reader.Read()) { clusterKey = reader.GetString(0); clusterProtocol = reader.GetString(1); }
        }
        if (clusterKey is null)
        {
            using var define = Command(connection, "INSERT INTO wbadmin.cluster (key_hash, protocol) VALUES (@key, @protocol)", tx);
            define.Parameters.AddWithValue("key", identity.KeyHash);
            define.Parameters.AddWithValue("protocol", identity.Protocol);
            define.ExecuteNonQuery();
            (clusterKey, clusterProtocol) = (identity.KeyHash, identity.Protocol);
        }
        var status = !report.Serving ? NodeStatus.Offline
            : clusterKey != identity.KeyHash ? NodeStatus.InvalidKey
            : clusterProtocol != identity.Protocol ? NodeStatus.ProtocolMismatch
            : NodeStatus.Online;

        // last_seen is the server's clock at this statement (clock_timestamp, not the transaction's start, which
        // precedes the lock wait), and node_clock the node's read just before it: their difference is the skew.
        var sql = mustExist
            ? """
              UPDATE wbadmin.node SET ipv4 = @ipv4, status = @status, key_hash = @key, protocol = @protocol, version = coalesce(@version, version),
                     cores = @cores, load1 = @load1, load5 = @load5, load15 = @load15, node_clock = @clock, last_seen = clock_timestamp()
              WHERE host = @host AND port = @port RETURNING id
              """
            : """
              INSERT INTO wbadmin.node (host, ipv4, port, status, key_hash, protocol, version, cores, load1, load5, load15, node_clock, last_seen)
              VALUES (@host, @ipv4, @port, @status, @key, @protocol, @version, @cores, @load1, @load5, @load15, @clock, clock_timestamp())
              ON CONFLICT (host, port) DO UPDATE SET ipv4 = excluded.ipv4, status = excluded.status, key_hash = excluded.key_hash,
                     protocol = excluded.protocol, version = coalesce(excluded.version, wbadmin.node.version), cores = excluded.cores,
                     load1 = excluded.load1, load5 = excluded.load5, load15 = excluded.load15, node_clock = excluded.node_clock, last_seen = excluded.last_seen
              RETURNING id
              """;
        int? id;
        using (var upsert = Command(connection, sql, tx))
        {
            upsert.Parameters.AddWithValue("host", identity.Host);
            upsert.Parameters.AddWithValue("port", identity.Port);
            upsert.Parameters.Add(new NpgsqlParameter("ipv4", NpgsqlDbType.Text) { Value = (object?)identity.IPv4Address ?? DBNull.Value });
            upsert.Parameters.AddWithValue("status", status);
            upsert.Parameters.AddWithValue("key", identity.KeyHash);
            upsert.Parameters.AddWithValue("protocol", identity.Protocol);
            upsert.Parameters.Add(new NpgsqlParameter("version", NpgsqlDbType.Text) { Value = (object?)report.Version ?? DBNull.Value });
            upsert.Parameters.AddWithValue("cores", report.Cores);
            upsert.Parameters.AddWithValue("load1", report.Load1);
            upsert.Parameters.AddWithValue("load5", report.Load5);
            upsert.Parameters.AddWithValue("load15", report.Load15);
            upsert.Parameters.AddWithValue("clock", report.Clock.GetUtcNow());
            id = (int?)upsert.ExecuteScalar();
        }
        if (id is null)
            throw new WbException("NodeNotRegistered", WbErrorCategory.ObjectNotFound,
                $"Node {identity.Address} is not registered in {Target.Description}; run Register-WbNode on it first.", identity.Address);
        if (fingerprint is not null)
        {
            // Dated when it was taken (it read the shared-storage markers then), not when it is written.
            using var save = Command(connection, """
                INSERT INTO wbadmin.node_fingerprint (node_id, fingerprint, updated) VALUES (@id, @fingerprint::jsonb, clock_timestamp() - make_interval(secs => @age))
                ON CONFLICT (node_id) DO UPDATE SET fingerprint = excluded.fingerprint, updated = excluded.updated
                """, tx);
            save.Parameters.AddWithValue("id", id.Value);
            save.Parameters.AddWithValue("fingerprint", fingerprint.Json);
            save.Parameters.AddWithValue("age", System.Diagnostics.Stopwatch.GetElapsedTime(fingerprint.TakenAt).TotalSeconds);
            save.ExecuteNonQuery();
        }
        tx.Commit();
        return QueryNodes(connection, offlineAfter, "n.id = @id", p => p.AddWithValue("id", id.Value)).Single();
    }, cancel);

    /// <summary>The fingerprint each node last published with its heartbeat, by node id.</summary>
    public IReadOnlyDictionary<int, PublishedFingerprint> GetFingerprints(CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, "SELECT node_id, fingerprint::text, updated FROM wbadmin.node_fingerprint");
        using var reader = cmd.ExecuteReader();
        var map = new Dictionary<int, PublishedFingerprint>();
        while (reader.Read()) map[reader.GetInt32(0)] = new PublishedFingerprint(reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
        return map;
    }, cancel);

    /// <summary>The server's max_connections and the part of it reserved for superusers.</summary>
    public (int Max, int Reserved) GetConnectionLimits(CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int");
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }, cancel);

    public IReadOnlyList<NodeInfo> GetNodes(TimeSpan offlineAfter, CancellationToken cancel = default) =>
        Use(connection => QueryNodes(connection, offlineAfter, null, null), cancel);

    private static List<NodeInfo> QueryNodes(NpgsqlConnection connection, TimeSpan offlineAfter, string? where, Action<NpgsqlParameterCollection>? parameters)
    {
        using var cmd = Command(connection, $"SELECT {NodeColumns} FROM wbadmin.node n {(where is null ? "" : "WHERE " + where)} ORDER BY n.id");
        cmd.Parameters.AddWithValue("offline", offlineAfter.TotalSeconds);
        parameters?.Invoke(cmd.Parameters);
        using var reader = cmd.ExecuteReader();
        var list = new List<NodeInfo>();
        while (reader.Read())
        {
            list.Add(new NodeInfo
            {
                Id = reader.GetInt32(0),
                Host = reader.GetString(1),
                IPv4Address = reader.IsDBNull(2) ? null : reader.GetString(2),
                Port = reader.GetInt32(3),
                Status = reader.GetString(4),
                LastSeen = reader.GetFieldValue<DateTimeOffset>(5),
                Load1 = reader.GetDouble(6),
                Load5 = reader.GetDouble(7),
                Load15 = reader.GetDouble(8),
                Cores = reader.IsDBNull(9) ? null : reader.GetInt32(9),
                ActiveSessions = reader.GetInt32(10),
                Protocol = reader.GetString(11),
                Version = reader.IsDBNull(12) ? null : reader.GetString(12),
                NodeClock = reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13),
                RegisteredAt = reader.GetFieldValue<DateTimeOffset>(14),
                DrainingSince = reader.IsDBNull(15) ? null : reader.GetFieldValue<DateTimeOffset>(15),
            });
        }
        return list;
    }

    /// <summary>The nodes as balancing candidates (online per the timeout), in id order.</summary>
    public CandidateSet GetCandidates(TimeSpan offlineAfter, CancellationToken cancel = default) => new(GetNodes(offlineAfter, cancel).Select(n => n.Candidate));

    /// <summary>
    /// Drains a node (no new sessions; running ones finish) or takes it back. Under the placement lock, so a
    /// placement decided before the change commits before it, and every placement after it sees it.
    /// Returns the node as it now is, or null when there is no such node.
    /// </summary>
    public NodeInfo? SetDraining(int id, bool draining, TimeSpan offlineAfter, CancellationToken cancel = default) => Use(connection =>
    {
        using var tx = connection.BeginTransaction();
        using (var lockCmd = Command(connection, $"SELECT pg_advisory_xact_lock({ClusterLock})", tx)) lockCmd.ExecuteNonQuery();
        using (var update = Command(connection, draining
                   ? "UPDATE wbadmin.node SET draining_since = coalesce(draining_since, now()) WHERE id = @id"
                   : "UPDATE wbadmin.node SET draining_since = NULL WHERE id = @id", tx))
        {
            update.Parameters.AddWithValue("id", id);
            if (update.ExecuteNonQuery() == 0) return null;
        }
        var node = QueryNodes(connection, offlineAfter, "n.id = @id", p => p.AddWithValue("id", id)).Single();
        tx.Commit();
        return node;
    }, cancel);

    /// <summary>Deletes a node (its sessions go with it). False when there was no such node.</summary>
    public bool RemoveNode(int id, CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, "DELETE FROM wbadmin.node WHERE id = @id");
        cmd.Parameters.AddWithValue("id", id);
        return cmd.ExecuteNonQuery() > 0;
    }, cancel);

    /// <summary>Records a node as Offline at once (it left), until it registers or heartbeats again. False when there was no such node.</summary>
    public bool MarkOffline(string host, int port, CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, $"UPDATE wbadmin.node SET status = '{NodeStatus.Offline}' WHERE host = @host AND port = @port");
        cmd.Parameters.AddWithValue("host", host);
        cmd.Parameters.AddWithValue("port", port);
        return cmd.ExecuteNonQuery() > 0;
    }, cancel);

    public bool RemoveNode(string host, int port, CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, "DELETE FROM wbadmin.node WHERE host = @host AND port = @port");
        cmd.Parameters.AddWithValue("host", host);
        cmd.Parameters.AddWithValue("port", port);
        return cmd.ExecuteNonQuery() > 0;
    }, cancel);

    /// <summary>Clears the cluster record, as <c>rstudio-server reset-cluster</c> does. False when there was none.</summary>
    public bool ResetCluster(CancellationToken cancel = default) => Use(connection =>
    {
        using var tx = connection.BeginTransaction();
        using (var lockCmd = Command(connection, $"SELECT pg_advisory_xact_lock({ClusterLock})", tx)) lockCmd.ExecuteNonQuery();
        using var cmd = Command(connection, "DELETE FROM wbadmin.cluster", tx);
        var removed = cmd.ExecuteNonQuery() > 0;
        tx.Commit();
        return removed;
    }, cancel);

    /// <summary>
    /// Places a session: the engine chooses among the online nodes with live counts and loads, and the
    /// session is recorded in the same transaction, under the placement lock. Concurrent callers in this
    /// process are grouped into one transaction (each still decided in turn, seeing the ones before it).
    /// </summary>
    public SessionInfo PlaceSession(PlacementRequest request, CancellationToken cancel = default) => _placements.Place(request, cancel);

    /// <summary>Runs the round trip carrying a placement batch's COMMIT instead of running it directly: tests lose a commit's answer with it.</summary>
    internal Action<PlacementCommit>? CommitHook { get; set; }

    /// <summary>Placements waiting to join the next batch.</summary>
    internal int QueuedPlacements => _placements.Queued;

    public IReadOnlyList<SessionInfo> GetSessions(SessionFilter filter, CancellationToken cancel = default) => Use(connection =>
    {
        var where = new List<string>();
        if (!filter.IncludeEnded) where.Add("s.ended IS NULL");
        if (filter.Id is not null) where.Add("s.id = ANY(@ids)");
        if (filter.NodeId is not null) where.Add("s.node_id = ANY(@nodes)");
        if (filter.UserName is not null) where.Add("s.username = ANY(@users)");
        using var cmd = Command(connection, $"""
            SELECT s.id, s.node_id, n.host, n.port, s.pid, s.username, s.started, s.ended
            FROM wbadmin.session s JOIN wbadmin.node n ON n.id = s.node_id
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY s.id
            """);
        if (filter.Id is not null) cmd.Parameters.AddWithValue("ids", filter.Id.ToArray());
        if (filter.NodeId is not null) cmd.Parameters.AddWithValue("nodes", filter.NodeId.ToArray());
        if (filter.UserName is not null) cmd.Parameters.AddWithValue("users", filter.UserName.ToArray());
        using var reader = cmd.ExecuteReader();
        var list = new List<SessionInfo>();
        while (reader.Read()) list.Add(ReadSession(reader));
        return list;
    }, cancel);

    private static SessionInfo ReadSession(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        NodeId = reader.GetInt32(1),
        Node = NodeCandidate.FormatAddress(reader.GetString(2), reader.GetInt32(3)),
        Pid = reader.GetInt32(4),
        UserName = reader.GetString(5),
        Started = reader.GetFieldValue<DateTimeOffset>(6),
        Ended = reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
    };

    /// <summary>User names with active sessions starting with <paramref name="prefix"/> (case-insensitive), most sessions first.</summary>
    public IReadOnlyList<(string UserName, int Sessions)> ActiveUserNames(string prefix, int limit, CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, """
            SELECT username, count(*)::int FROM wbadmin.session
            WHERE ended IS NULL AND lower(username) LIKE lower(@prefix) || '%' ESCAPE '\'
            GROUP BY username ORDER BY count(*) DESC, username LIMIT @limit
            """);
        cmd.Parameters.AddWithValue("prefix", prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_"));
        cmd.Parameters.AddWithValue("limit", limit);
        using var reader = cmd.ExecuteReader();
        var list = new List<(string, int)>();
        while (reader.Read()) list.Add((reader.GetString(0), reader.GetInt32(1)));
        return list;
    }, cancel);

    /// <summary>Ends a session and frees its slot, in one statement. Null when there is no such active session.</summary>
    public SessionInfo? EndSession(long id, CancellationToken cancel = default) => Use(connection =>
    {
        using var cmd = Command(connection, """
            WITH ended AS (
                UPDATE wbadmin.session SET ended = now() WHERE id = @id AND ended IS NULL
                RETURNING id, node_id, pid, username, started, ended),
            freed AS (
                UPDATE wbadmin.node n SET active_sessions = n.active_sessions - 1 FROM ended
                WHERE n.id = ended.node_id RETURNING n.host, n.port)
            SELECT e.id, e.node_id, f.host, f.port, e.pid, e.username, e.started, e.ended FROM ended e, freed f
            """);
        cmd.Parameters.AddWithValue("id", id);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadSession(reader) : null;
    }, cancel);

    /// <summary>Per node: load averages and sessions, as /load-balancer/status shows them; a summary leaves sessions out.</summary>
    public IReadOnlyList<NodeSessionLoad> GetSessionLoad(bool includeSessions, TimeSpan offlineAfter, CancellationToken cancel = default) => Use(connection =>
    {
        var nodes = QueryNodes(connection, offlineAfter, null, null);
        if (!includeSessions)
            return nodes.Select(n => ToLoad(n, [])).ToList();
        var byNode = QueryActiveSessions(connection);
        return nodes.Select(n => ToLoad(n, byNode.TryGetValue(n.Id, out var s) ? s : [])).ToList();
    }, cancel);

    /// <summary>The nodes and, per node, its sessions, read on one connection: what the balancer program needs from the store.</summary>
    public (IReadOnlyList<NodeInfo> Nodes, IReadOnlyList<NodeSessionLoad> Loads) GetClusterView(TimeSpan offlineAfter, CancellationToken cancel = default) => Use(connection =>
    {
        using var tx = connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
        var nodes = QueryNodes(connection, offlineAfter, null, null);
        var byNode = QueryActiveSessions(connection);
        tx.Commit();
        return ((IReadOnlyList<NodeInfo>)nodes, (IReadOnlyList<NodeSessionLoad>)nodes.Select(n => ToLoad(n, byNode.TryGetValue(n.Id, out var s) ? s : [])).ToList());
    }, cancel);

    private static Dictionary<int, List<SessionEntry>> QueryActiveSessions(NpgsqlConnection connection)
    {
        var byNode = new Dictionary<int, List<SessionEntry>>();
        using var cmd = Command(connection, "SELECT node_id, pid, username FROM wbadmin.session WHERE ended IS NULL ORDER BY node_id, id");
        using var reader = cmd.ExecuteReader();
        List<SessionEntry>? current = null;
        var currentNode = -1;
        while (reader.Read())
        {
            var node = reader.GetInt32(0);
            if (node != currentNode)
            {
                currentNode = node;
                if (!byNode.TryGetValue(node, out current)) byNode[node] = current = [];
            }
            current!.Add(new SessionEntry(reader.GetInt32(1), reader.GetString(2)));
        }
        return byNode;
    }

    private static NodeSessionLoad ToLoad(NodeInfo n, IReadOnlyList<SessionEntry> sessions) => new()
    {
        NodeId = n.Id,
        Address = n.Address,
        Load1 = n.Load1,
        Load5 = n.Load5,
        Load15 = n.Load15,
        Status = n.Status,
        SessionCount = sessions.Count > 0 ? sessions.Count : n.ActiveSessions,
        Sessions = sessions,
    };
}

/// <summary>Which sessions Get-WbSession returns; null filters match everything.</summary>
public sealed record SessionFilter
{
    public IReadOnlyList<long>? Id { get; init; }
    public IReadOnlyList<int>? NodeId { get; init; }
    public IReadOnlyList<string>? UserName { get; init; }
    public bool IncludeEnded { get; init; }
}
