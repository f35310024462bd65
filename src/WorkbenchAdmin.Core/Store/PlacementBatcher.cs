using Npgsql;
using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Store;

/// <summary>One New-WbSession call: who, how to balance, and optionally the session's process id.</summary>
public sealed record PlacementRequest(string UserName, IBalancingPolicy Policy)
{
    public int? Pid { get; init; }
    public TimeSpan OfflineAfter { get; init; } = ClusterStore.DefaultOfflineAfter;
    public bool UseIPAddress { get; init; }
    public BalancingOptions Options { get; init; } = BalancingOptions.None;
    /// <summary>A decision already made outside the lock (custom scripts); the lock only confirms its node can still take the session.</summary>
    internal BalanceDecision? PreDecided { get; init; }
}

/// <summary>
/// Session placement with application-level group commit. Correctness needs every decision to see every
/// placement before it, so placements hold one advisory lock from reading the counts to committing the
/// insert. Holding a lock across a commit would serialise the WAL flushes, so concurrent callers in one
/// process are grouped: one caller leads a transaction that decides for every waiting request in turn
/// (each seeing the ones before it), inserts them all and commits once; then it hands the lead to the next
/// waiting caller. Callers in other processes serialise on the same lock. One request never fails the others:
/// a request that cannot be decided fails alone, and when the batch's write fails it is run again with each
/// insert under its own savepoint.
/// </summary>
internal sealed class PlacementBatcher(ClusterStore store)
{
    private const int MaxBatch = 256;
    private readonly object _gate = new();
    private readonly Queue<Pending> _queue = new();
    private bool _leading;
    private readonly BalanceEngine _engine = new();

    private sealed class Pending(PlacementRequest request)
    {
        public PlacementRequest Request { get; } = request;
        public ManualResetEventSlim Signal { get; } = new(false);
        public bool Lead { get; set; }
        public SessionInfo? Result { get; set; }
        public Exception? Error { get; set; }
        public bool Done => Result is not null || Error is not null;
    }

    /// <summary>Callers waiting for a leader to take them into a batch (tests line a batch up with it).</summary>
    internal int Queued { get { lock (_gate) return _queue.Count; } }

    public SessionInfo Place(PlacementRequest request)
    {
        // A custom script may take seconds: run it before queueing, so it never holds up other placements; under
        // the lock its choice is only confirmed against the counts and drains of that moment (StillEligible).
        if (request.Policy is Balancing.Custom.CustomScriptPolicy && request.PreDecided is null)
            request = request with { PreDecided = _engine.Decide(request.Policy, request.UserName, store.GetCandidates(request.OfflineAfter), request.UseIPAddress, request.Options) };

        var mine = new Pending(request);
        bool lead;
        lock (_gate)
        {
            _queue.Enqueue(mine);
            lead = !_leading;
            if (lead) { _leading = true; mine.Lead = true; }
        }
        while (true)
        {
            if (mine.Lead && !mine.Done) Lead(mine);
            if (mine.Done) break;
            mine.Signal.Wait();
            mine.Signal.Reset();
        }
        mine.Signal.Dispose();
        return mine.Result ?? throw mine.Error!;
    }

    /// <summary>Runs one batch, then passes the lead to the first caller still waiting (or gives it up).</summary>
    private void Lead(Pending leader)
    {
        List<Pending> batch;
        lock (_gate)
        {
            batch = new List<Pending>(Math.Min(_queue.Count, MaxBatch));
            while (_queue.Count > 0 && batch.Count < MaxBatch) batch.Add(_queue.Dequeue());
        }
        try
        {
            try
            {
                RunBatch(batch, isolate: false);
            }
            catch (WbException e) when (e.Category is not (WbErrorCategory.ConnectionError or WbErrorCategory.AuthenticationError) && batch.Count(p => !p.Done) > 1)
            {
                // The batch's transaction failed and wrote nothing; one request's row may be why. Place them again,
                // each insert under its own savepoint, so a row the server refuses fails its own request only.
                RunBatch(batch, isolate: true);
            }
        }
        catch (OperationCanceledException e)
        {
            // The leader's command was stopped (Ctrl+C) and its transaction rolled back: only the leader gives
            // up; the others still undecided go back to the head of the queue, in order, for the next leader.
            // One that already has its answer (an error of its own) is not requeued: it would take the lead
            // and, being done, never run the batch, stranding every caller behind it.
            leader.Error ??= e;
            lock (_gate)
            {
                var rest = batch.Where(p => p != leader && !p.Done).Concat(_queue).ToList();
                _queue.Clear();
                foreach (var p in rest) _queue.Enqueue(p);
            }
            batch = batch.Where(p => p == leader || p.Done).ToList();
        }
        catch (Exception e)
        {
            // The transaction failed as a whole: nothing of it was written, and every caller in it hears why.
            var error = e as WbException ?? DatabaseErrors.Map(e, store.Target);
            foreach (var p in batch.Where(p => !p.Done)) p.Error = error;
        }
        lock (_gate)
        {
            if (_queue.Count > 0) _queue.Peek().Lead = true;
            else _leading = false;
            foreach (var p in batch) { p.Lead = false; p.Signal.Set(); }
            if (_queue.Count > 0) _queue.Peek().Signal.Set();
        }
    }

    /// <summary>
    /// Decides for every waiting request of the batch, in arrival order, and records the sessions in one transaction.
    /// Normally every insert goes in one round trip; with <paramref name="isolate"/>, each goes under a savepoint,
    /// and a request whose insert fails gets its error while the others are still placed.
    /// </summary>
    private void RunBatch(List<Pending> batch, bool isolate) => store.Use(connection =>
    {
        using var tx = connection.BeginTransaction();
        var (nodes, transactionId) = ReadNodes(connection, tx);

        // Decide in arrival order on a live copy of the counts: each decision sees the ones before it.
        var placed = new List<(Pending Pending, BalanceDecision Decision, SessionInfo? Session)>(batch.Count);
        var sets = new Dictionary<TimeSpan, CandidateSet>();
        foreach (var p in batch.Where(p => !p.Done))
        {
            BalanceDecision decision;
            int chosen;
            try
            {
                if (!sets.TryGetValue(p.Request.OfflineAfter, out var set))
                    sets[p.Request.OfflineAfter] = set = new CandidateSet(nodes.Select(n => n.ToCandidate(p.Request.OfflineAfter)));
                decision = p.Request.PreDecided ?? _engine.Decide(p.Request.Policy, p.Request.UserName, set, p.Request.UseIPAddress, p.Request.Options);
                chosen = p.Request.PreDecided is null ? decision.ChosenIndex : StillEligible(set, decision, p.Request.Options.MaxSessionsPerNode);
            }
            catch (WbException e)
            {
                p.Error = e; // this request alone fails; the others are still placed
                continue;
            }
            SessionInfo? session = null;
            if (isolate)
            {
                tx.Save("placement");
                try
                {
                    using var insert = new NpgsqlBatch(connection, tx) { BatchCommands = { Insert(p, decision) } };
                    using var reader = insert.ExecuteReader();
                    session = ReadSession(reader, p, decision);
                }
                // Not when the leader's command is being stopped: the server cancelling the insert is no fault of the row.
                catch (Exception e) when (e is not OperationCanceledException && !Logging.CommandLog.Cancellation.IsCancellationRequested
                                          && connection.FullState == System.Data.ConnectionState.Open)
                {
                    tx.Rollback("placement");
                    p.Error = DatabaseErrors.Map(e, store.Target);
                    continue;
                }
                tx.Release("placement");
            }
            foreach (var s in sets.Values) s[chosen].ActiveSessions++;
            placed.Add((p, decision, session));
        }
        if (placed.Count == 0) return 0;

        using var write = new NpgsqlBatch(connection, tx);
        if (!isolate)
            foreach (var (p, d, _) in placed) write.BatchCommands.Add(Insert(p, d));
        var perNode = placed.GroupBy(x => x.Decision.NodeId).ToArray();
        var bump = new NpgsqlBatchCommand("""
            UPDATE wbadmin.node n SET active_sessions = n.active_sessions + d.k
            FROM unnest($1::int[], $2::int[]) AS d(id, k) WHERE n.id = d.id
            """);
        bump.Parameters.Add(new NpgsqlParameter { Value = perNode.Select(g => g.Key).ToArray() });
        bump.Parameters.Add(new NpgsqlParameter { Value = perNode.Select(g => g.Count()).ToArray() });
        write.BatchCommands.Add(bump);

        var results = new List<SessionInfo>(placed.Count);
        using (var reader = write.ExecuteReader())
        {
            foreach (var (p, d, session) in placed)
            {
                if (session is not null) { results.Add(session); continue; }
                results.Add(ReadSession(reader, p, d));
                reader.NextResult();
            }
        }
        Commit(tx, transactionId, results);
        // Results are published only after the commit: a caller never sees a session that was rolled back.
        for (var i = 0; i < placed.Count; i++) placed[i].Pending.Result = results[i];
        return placed.Count;
    }, $"PlaceSession (batch of {batch.Count}{(isolate ? ", one savepoint each" : "")})");

    private static NpgsqlBatchCommand Insert(Pending p, BalanceDecision d)
    {
        var insert = new NpgsqlBatchCommand("""
            INSERT INTO wbadmin.session (node_id, pid, username)
            VALUES ($1, coalesce($2, nextval('wbadmin.session_pid')::int), $3)
            RETURNING id, pid, started
            """);
        insert.Parameters.Add(new NpgsqlParameter { Value = d.NodeId });
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)p.Request.Pid ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        insert.Parameters.Add(new NpgsqlParameter { Value = p.Request.UserName });
        return insert;
    }

    /// <summary>The session an insert recorded (its RETURNING row, the reader positioned on that result).</summary>
    private static SessionInfo ReadSession(NpgsqlDataReader reader, Pending p, BalanceDecision d)
    {
        reader.Read();
        return new SessionInfo
        {
            Id = reader.GetInt64(0),
            NodeId = d.NodeId,
            Node = d.Chosen.Node,
            Pid = reader.GetInt32(1),
            UserName = p.Request.UserName,
            Started = reader.GetFieldValue<DateTimeOffset>(2),
            Decision = d,
        };
    }

    /// <summary>
    /// The index of a pre-decided node (a custom script's choice, made before the lock) in the locked snapshot;
    /// an error, and nothing written, when it can no longer take the session: offline, drained or full since.
    /// </summary>
    private static int StillEligible(CandidateSet set, BalanceDecision decision, int? maxSessionsPerNode)
    {
        var why = $"The {decision.Method} balancer chose {decision.Node} for '{decision.UserName}', but before the session was recorded it";
        for (var i = 0; i < set.Count; i++)
        {
            var node = set[i];
            if (node.Id != decision.NodeId) continue;
            if (BalanceContext.IsEligible(node, maxSessionsPerNode)) return i;
            if (node.Online && node.Draining)
                throw new WbException("ChosenNodeDraining", WbErrorCategory.ResourceUnavailable, $"{why} was drained; nothing was written. Try again.", decision.UserName);
            if (node.Online)
                throw new WbException("ChosenNodeFull", WbErrorCategory.LimitsExceeded,
                    $"{why} reached {maxSessionsPerNode} sessions (MaxSessionsPerNode); nothing was written. Try again.", decision.UserName);
            break;
        }
        throw new WbException("ChosenNodeWentOffline", WbErrorCategory.ResourceUnavailable, $"{why} went offline; nothing was written. Try again.", decision.UserName);
    }

    private sealed record NodeRow(int Id, string Host, string? IPv4, int Port, string Status, double AgeSeconds,
                                  double Load1, double Load5, double Load15, int? Cores, int Active, bool Draining)
    {
        public NodeCandidate ToCandidate(TimeSpan offlineAfter) => new()
        {
            Id = Id, Host = Host, IPv4Address = IPv4, Port = Port,
            Online = Status == NodeStatus.Online && AgeSeconds <= offlineAfter.TotalSeconds, Draining = Draining,
            ActiveSessions = Active, Load1 = Load1, Load5 = Load5, Load15 = Load15, Cores = Cores,
        };
    }

    /// <summary>The nodes under the placement lock, and the transaction's id (to learn its fate if its commit's answer is lost).</summary>
    private static (List<NodeRow> Rows, long TransactionId) ReadNodes(NpgsqlConnection connection, NpgsqlTransaction tx)
    {
        using var read = new NpgsqlBatch(connection, tx);
        read.BatchCommands.Add(new NpgsqlBatchCommand("SELECT txid_current()"));
        read.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({ClusterStore.ClusterLock})"));
        read.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT id, host, ipv4, port, status, extract(epoch FROM now() - last_seen)::float8,
                   load1, load5, load15, cores, active_sessions, draining_since IS NOT NULL
            FROM wbadmin.node ORDER BY id
            """));
        using var reader = read.ExecuteReader();
        reader.Read();
        var transactionId = reader.GetInt64(0);
        reader.NextResult();
        reader.NextResult();
        var rows = new List<NodeRow>();
        while (reader.Read())
        {
            rows.Add(new NodeRow(reader.GetInt32(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt32(3),
                reader.GetString(4), reader.GetDouble(5), reader.GetDouble(6), reader.GetDouble(7), reader.GetDouble(8),
                reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.GetInt32(10), reader.GetBoolean(11)));
        }
        return (rows, transactionId);
    }

    private static readonly TimeSpan OutcomeWindow = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Commits a batch. When the connection breaks during the commit, the server may have committed it all the
    /// same (its answer was lost: a restart, a network cut): the callers must then get their sessions, not an
    /// error that makes them place again and record the session twice. So the server is asked on a new
    /// connection, for up to <see cref="OutcomeWindow"/> while it comes back: once the transaction is no longer
    /// in progress (txid_status), whether its rows are there (id, user and start time, as RETURNING gave them).
    /// The rows decide, not the transaction id alone: after a crash the server may hand a lost transaction's id
    /// to another one. A batch that did not commit fails as before; one whose fate cannot be learnt says so.
    /// </summary>
    private void Commit(NpgsqlTransaction tx, long transactionId, IReadOnlyList<SessionInfo> sessions)
    {
        try
        {
            (store.CommitHook ?? (t => t.Commit()))(tx);
        }
        catch (Exception e) when (DatabaseErrors.IsConnectionFailure(e) && !Logging.CommandLog.Cancellation.IsCancellationRequested)
        {
            store.DataSource.Clear(); // every pooled connection to a restarted server is dead
            var deadline = DateTime.UtcNow + OutcomeWindow;
            string? lastProblem = null;
            while (true)
            {
                int? recorded = null;
                try
                {
                    using var connection = store.DataSource.OpenConnection();
                    string? fate;
                    try
                    {
                        using var status = ClusterStore.Command(connection, "SELECT txid_status(@xid)");
                        status.Parameters.AddWithValue("xid", transactionId);
                        fate = status.ExecuteScalar() as string;
                    }
                    catch (PostgresException future) when (future.SqlState == "22023")
                    {
                        fate = null; // an id the restarted server has not handed out again: that transaction is gone
                    }
                    if (fate == "in progress") lastProblem = "the transaction was still in progress";
                    else
                    {
                        using var rows = ClusterStore.Command(connection, """
                            SELECT count(*)::int FROM wbadmin.session s
                            JOIN unnest(@ids, @users, @started) AS p(id, username, started)
                              ON s.id = p.id AND s.username = p.username AND s.started = p.started
                            """);
                        rows.Parameters.AddWithValue("ids", sessions.Select(x => x.Id).ToArray());
                        rows.Parameters.AddWithValue("users", sessions.Select(x => x.UserName).ToArray());
                        rows.Parameters.AddWithValue("started", sessions.Select(x => x.Started).ToArray());
                        recorded = (int)rows.ExecuteScalar()!;
                    }
                }
                catch (Exception again) when (DatabaseErrors.IsConnectionFailure(again))
                {
                    lastProblem = again.Message;
                }
                if (recorded == sessions.Count) return;
                if (recorded == 0) throw; // not committed: nothing was written, the error stands
                if (recorded is not null) lastProblem = $"{recorded} of its {sessions.Count} rows were found";
                if (DateTime.UtcNow > deadline || Logging.CommandLog.Cancellation.WaitHandle.WaitOne(200))
                    throw new WbException("PlacementOutcomeUnknown", WbErrorCategory.ConnectionError,
                        $"The connection to {store.Target.Description} broke while {sessions.Count} placement(s) were committing, and whether they were " +
                        $"recorded could not be learnt ({lastProblem}): check Get-WbSession for the user before placing again.", store.Target.Description, e);
            }
        }
    }
}
