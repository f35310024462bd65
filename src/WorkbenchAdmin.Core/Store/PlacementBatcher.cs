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
/// <para>
/// Round trips: a batch normally takes two (BEGIN, lock and read; then insert, count, re-read and COMMIT), so the
/// lock is held across one client round trip. When this process placed last, it decides from the node rows it read
/// just before its own commit and sends everything in one round trip, the insert made conditional on those rows being
/// unchanged under the lock (same ids, row versions and online states). If another process or a heartbeat changed
/// them, nothing is written and the attempt brings back the current rows; it is tried once more with those, then the
/// two-trip way. Decision errors from a stale snapshot are only reported once the rows are confirmed.
/// </para>
/// <para>
/// COMMIT travels with the write, so a lost answer (a restart, a network cut) also loses the rows RETURNING gave: each
/// placement carries a token of its own, written with its row, by which <see cref="Settle"/> finds it on a new connection.
/// </para>
/// </summary>
internal sealed class PlacementBatcher(ClusterStore store)
{
    private const int MaxBatch = 256;
    private readonly object _gate = new();
    private readonly Queue<Pending> _queue = new();
    private bool _leading;
    private readonly BalanceEngine _engine = new();

    private sealed class Pending(PlacementRequest request, CancellationToken cancel)
    {
        public PlacementRequest Request { get; } = request;
        /// <summary>The caller's stop signal: the batch it leads is cancelled with it.</summary>
        public CancellationToken Cancel { get; } = cancel;
        /// <summary>Written with the session (a unique column): how a lost commit answer is settled, see <see cref="Settle"/>.</summary>
        public Guid Token { get; } = Guid.NewGuid();
        public ManualResetEventSlim Signal { get; } = new(false);
        public bool Lead { get; set; }
        public SessionInfo? Result { get; set; }
        public Exception? Error { get; set; }
        public bool Done => Result is not null || Error is not null;
    }

    /// <summary>Callers waiting for a leader to take them into a batch (tests line a batch up with it).</summary>
    internal int Queued { get { lock (_gate) return _queue.Count; } }

    public SessionInfo Place(PlacementRequest request, CancellationToken cancel)
    {
        // A custom script may take seconds: run it before queueing, so it never holds up other placements; under
        // the lock its choice is only confirmed against the counts and drains of that moment (StillEligible).
        if (request.Policy.RunsOutsideTransaction && request.PreDecided is null)
            request = request with { PreDecided = _engine.Decide(request.Policy, request.UserName, store.GetCandidates(request.OfflineAfter, cancel), request.UseIPAddress, request.Options, cancel) };

        var mine = new Pending(request, cancel);
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

    /// <summary>
    /// Runs one batch, then passes the lead to the first caller still waiting (or gives it up). A batch whose commit answer
    /// was lost is settled only after the lead has passed: the settlement may take seconds while the server is away, and
    /// the next batch must not wait on it (its own connection attempt fails at once while the server is down, or, after a
    /// cut, waits on the placement lock until the settlement ends the old backend).
    /// </summary>
    private void Lead(Pending leader)
    {
        List<Pending> batch;
        lock (_gate)
        {
            batch = new List<Pending>(Math.Min(_queue.Count, MaxBatch));
            while (_queue.Count > 0 && batch.Count < MaxBatch) batch.Add(_queue.Dequeue());
        }
        CommitAnswerLost? lost = null;
        try
        {
            try
            {
                RunBatch(batch, isolate: false, leader.Cancel);
            }
            catch (WbException e) when (e is not CommitAnswerLost && e.Category is not (WbErrorCategory.ConnectionError or WbErrorCategory.AuthenticationError or WbErrorCategory.NotInstalled)
                                        && batch.Count(p => !p.Done) > 1)
            {
                // The batch's transaction failed and wrote nothing; one request's row may be why. Place them again,
                // each insert under its own savepoint, so a row the server refuses fails its own request only.
                RunBatch(batch, isolate: true, leader.Cancel);
            }
        }
        catch (CommitAnswerLost e)
        {
            lost = e;
        }
        catch (OperationCanceledException e)
        {
            batch = Requeue(batch, leader, e);
        }
        catch (Exception e)
        {
            // The transaction failed as a whole: nothing of it was written, and every caller in it hears why.
            var error = e as WbException ?? DatabaseErrors.Map(e, store.Target);
            foreach (var p in batch.Where(p => !p.Done)) p.Error = error;
        }
        lock (_gate)
        {
            if (_queue.Count > 0) { _queue.Peek().Lead = true; _queue.Peek().Signal.Set(); }
            else _leading = false;
        }
        if (lost is not null)
        {
            try
            {
                if (Settle(lost.Backend, lost.Batch, lost.Lost, leader.Cancel) is { } sessions) Publish(lost.Batch, sessions, lost.Errors);
                else if (leader.Cancel.IsCancellationRequested)
                    batch = Requeue(batch, leader, new OperationCanceledException("The command was stopped.", lost.Lost, leader.Cancel));
                else foreach (var p in batch.Where(p => !p.Done)) p.Error = lost.NotCommitted; // nothing was written, the error stands
            }
            catch (WbException e)
            {
                foreach (var p in batch.Where(p => !p.Done)) p.Error = e;
            }
        }
        lock (_gate)
        {
            foreach (var p in batch) { p.Lead = false; p.Signal.Set(); }
        }
    }

    /// <summary>
    /// After the leader's command was stopped (Ctrl+C) and its transaction rolled back: only the leader gives up; the others
    /// still undecided go back to the head of the queue, in order, for the next leader (taking the lead if none has it).
    /// One that already has its answer (an error of its own) is not requeued: it would take the lead and, being done, never
    /// run the batch, stranding every caller behind it. Returns the callers that are answered now.
    /// </summary>
    private List<Pending> Requeue(List<Pending> batch, Pending leader, OperationCanceledException stopped)
    {
        leader.Error ??= stopped;
        lock (_gate)
        {
            var rest = batch.Where(p => p != leader && !p.Done).Concat(_queue).ToList();
            _queue.Clear();
            foreach (var p in rest) _queue.Enqueue(p);
            if (!_leading && _queue.Count > 0) { _leading = true; _queue.Peek().Lead = true; _queue.Peek().Signal.Set(); }
        }
        return batch.Where(p => p == leader || p.Done).ToList();
    }

    // Prepared: the placement statements are the same texts with the same parameter types every time, so each pooled
    // connection parses and plans them once (Npgsql keeps them per physical connection); planning the write alone
    // cost a third of a single placement's time. Their columns are named, so a later migration cannot change their result.

    /// <summary>Node rows read under the lock just before this process's last commit: what the next batch may decide from.</summary>
    private List<NodeRow>? _lastRows;
    /// <summary>
    /// One-trip attempts per batch. A failed attempt writes nothing and costs no WAL flush, and it brings back the rows as
    /// they are now, so a second attempt usually succeeds unless other processes are placing at the same moment.
    /// </summary>
    private const int OneTripAttempts = 2;

    /// <param name="Index">The chosen node's index in the batch's candidate sets (all built from the same rows, in row order).</param>
    private sealed record Placed(Pending Pending, BalanceDecision Decision, int NodeId, int Index);

    /// <summary>
    /// Decides for every waiting request of the batch, in arrival order, and records the sessions in one transaction.
    /// Normally every insert goes in one statement; with <paramref name="isolate"/>, each goes under a savepoint,
    /// and a request whose insert fails gets its error while the others are still placed.
    /// </summary>
    private void RunBatch(List<Pending> batch, bool isolate, CancellationToken cancel) => store.Use(connection =>
    {
        var todo = batch.Where(p => !p.Done).ToList();
        if (todo.Count == 0) return 0;
        Identify(connection); // before the transaction: a new connection's first placement asks once, not under the lock
        try
        {
            if (isolate) RunIsolated(connection, todo, cancel);
            else
            {
                var placed = false;
                for (var attempt = 0; attempt < OneTripAttempts && !placed; attempt++) placed = TryOneTrip(connection, todo);
                if (!placed) RunTwoTrips(connection, todo);
            }
        }
        catch
        {
            _lastRows = null; // what the failed transaction read may not be what is there now
            Rollback(connection);
            throw;
        }
        return 0;
    }, cancel, $"PlaceSession (batch of {batch.Count}{(isolate ? ", one savepoint each" : "")})");

    /// <summary>
    /// One round trip, deciding from the rows this process last read under the lock: BEGIN, lock, insert if those rows
    /// are unchanged, re-read, COMMIT. False when they changed (nothing written; the caller runs the two-trip way).
    /// </summary>
    private bool TryOneTrip(NpgsqlConnection connection, List<Pending> todo)
    {
        var rows = _lastRows;
        if (rows is null || todo.Select(p => p.Request.OfflineAfter).Distinct().Count() != 1) return false;
        var offlineAfter = todo[0].Request.OfflineAfter;
        var (placed, errors) = Decide(rows, todo);

        using var trip = new NpgsqlBatch(connection);
        trip.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        trip.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({ClusterStore.ClusterLock})"));
        trip.BatchCommands.Add(Write(placed, (rows, offlineAfter)));
        trip.BatchCommands.Add(new NpgsqlBatchCommand(ReadNodesSql));
        trip.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        trip.Prepare(); // once per pooled connection: see the note above _lastRows
        var sessions = CommitTrip(connection, placed, errors, transactionOpen: false, () =>
        {
            List<SessionInfo>? wrote;
            using var reader = trip.ExecuteReader();
            // The reader skips results without rows (BEGIN, COMMIT): it starts on the lock's.
            reader.NextResult();
            wrote = ReadWrite(reader, placed);
            reader.NextResult();
            rows = ReadNodes(reader);
            while (reader.NextResult()) { } // COMMIT: any error surfaces here, before anything is published
            return wrote;
        });
        _lastRows = rows;
        if (sessions is null) return false;
        Publish(placed, sessions, errors);
        return true;
    }

    /// <summary>BEGIN, lock and read; decide; then insert, count, re-read and COMMIT.</summary>
    private void RunTwoTrips(NpgsqlConnection connection, List<Pending> todo)
    {
        var rows = LockAndRead(connection);
        var (placed, errors) = Decide(rows, todo);

        using var trip = new NpgsqlBatch(connection);
        if (placed.Count > 0)
        {
            trip.BatchCommands.Add(Write(placed, null));
            trip.BatchCommands.Add(new NpgsqlBatchCommand(ReadNodesSql));
        }
        trip.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        trip.Prepare();
        var sessions = CommitTrip(connection, placed, errors, transactionOpen: true, () =>
        {
            List<SessionInfo>? wrote = [];
            using var reader = trip.ExecuteReader();
            if (placed.Count > 0)
            {
                wrote = ReadWrite(reader, placed);
                reader.NextResult();
                rows = ReadNodes(reader);
            }
            while (reader.NextResult()) { }
            return wrote;
        });
        _lastRows = rows;
        Publish(placed, sessions ?? throw new InvalidOperationException("An unconditional placement wrote nothing."), errors);
    }

    /// <summary>After a failed write: each request decided after the ones before it were inserted, each insert under a savepoint.</summary>
    private void RunIsolated(NpgsqlConnection connection, List<Pending> todo, CancellationToken cancel)
    {
        _lastRows = null;
        var rows = LockAndRead(connection);
        var sets = new Dictionary<TimeSpan, CandidateSet>();
        var placed = new List<Placed>(todo.Count);
        var sessions = new List<SessionInfo>(todo.Count);
        var errors = new List<(Pending, WbException)>();
        foreach (var p in todo)
        {
            if (!TryDecide(rows, sets, p, out var one, out var error)) { errors.Add((p, error)); continue; }
            Exec(connection, "SAVEPOINT placement");
            try
            {
                using var insert = new NpgsqlBatch(connection) { BatchCommands = { Write([one], null) } };
                using var reader = insert.ExecuteReader();
                sessions.Add(ReadWrite(reader, [one])![0]);
            }
            // Not when the leader's command is being stopped: the server cancelling the insert is no fault of the row.
            catch (Exception e) when (e is not OperationCanceledException && !cancel.IsCancellationRequested
                                      && connection.FullState == System.Data.ConnectionState.Open)
            {
                Exec(connection, "ROLLBACK TO SAVEPOINT placement");
                errors.Add((p, DatabaseErrors.Map(e, store.Target)));
                continue;
            }
            Exec(connection, "RELEASE SAVEPOINT placement");
            foreach (var s in sets.Values) s[one.Index].ActiveSessions++;
            placed.Add(one);
        }
        var committed = CommitTrip(connection, placed, errors, transactionOpen: true, () =>
        {
            Exec(connection, "COMMIT");
            return sessions;
        });
        Publish(placed, committed!, errors);
    }

    /// <summary>Decides for each request in turn on live copies of the counts: each decision sees the ones before it.</summary>
    private (List<Placed> Placed, List<(Pending, WbException)> Errors) Decide(List<NodeRow> rows, List<Pending> todo)
    {
        var sets = new Dictionary<TimeSpan, CandidateSet>();
        var placed = new List<Placed>(todo.Count);
        var errors = new List<(Pending, WbException)>();
        foreach (var p in todo)
        {
            if (!TryDecide(rows, sets, p, out var one, out var error)) { errors.Add((p, error)); continue; }
            foreach (var s in sets.Values) s[one.Index].ActiveSessions++;
            placed.Add(one);
        }
        return (placed, errors);
    }

    private bool TryDecide(List<NodeRow> rows, Dictionary<TimeSpan, CandidateSet> sets, Pending p, out Placed placed, out WbException error)
    {
        try
        {
            if (!sets.TryGetValue(p.Request.OfflineAfter, out var set))
            {
                var candidates = new NodeCandidate[rows.Count];
                for (var i = 0; i < candidates.Length; i++) candidates[i] = rows[i].ToCandidate(p.Request.OfflineAfter);
                sets[p.Request.OfflineAfter] = set = new CandidateSet(candidates);
            }
            var decision = p.Request.PreDecided ?? _engine.Decide(p.Request.Policy, p.Request.UserName, set, p.Request.UseIPAddress, p.Request.Options, p.Cancel);
            var chosen = p.Request.PreDecided is null ? decision.ChosenIndex : StillEligible(set, decision, p.Request.Options.MaxSessionsPerNode);
            placed = new Placed(p, decision, set[chosen].Id, chosen);
            error = null!;
            return true;
        }
        catch (WbException e)
        {
            placed = null!;
            error = e; // this request alone fails; the others are still placed
            return false;
        }
    }

    /// <summary>Results are published only after the commit: a caller never sees a session that was rolled back.</summary>
    private static void Publish(List<Placed> placed, List<SessionInfo> sessions, List<(Pending Pending, WbException Error)> errors)
    {
        for (var i = 0; i < placed.Count; i++) placed[i].Pending.Result = sessions[i];
        foreach (var (p, e) in errors) p.Error = e;
    }

    /// <summary>
    /// One statement that inserts the batch's sessions and adds them to their nodes' counts, only if <paramref name="unchanged"/>
    /// (when given) still describes the node rows under the lock. It returns whether it wrote, and the sessions in insert order.
    /// </summary>
    private static NpgsqlBatchCommand Write(List<Placed> placed, (List<NodeRow> Rows, TimeSpan OfflineAfter)? unchanged)
    {
        // The same online test as ReadNodesSql and NodeRow.ToCandidate, so equal flags mean equal decisions.
        var ok = unchanged is null ? "SELECT true AS ok" : """
            SELECT coalesce(array_agg(n.id ORDER BY n.id), '{}') = $7::int[]
                   AND coalesce(array_agg(n.xmin::text::bigint ORDER BY n.id), '{}') = $8::bigint[]
                   AND coalesce(array_agg(n.status = 'Online' AND extract(epoch FROM now() - n.last_seen)::float8 <= $9 ORDER BY n.id), '{}') = $10::bool[] AS ok
            FROM wbadmin.node n
            """;
        // Session ids come from the sequence in the order the rows are inserted (ORDER BY r.ord), so sorted ids map back to requests.
        var write = new NpgsqlBatchCommand($"""
            WITH ok AS ({ok}),
            ins AS (
                INSERT INTO wbadmin.session (node_id, pid, username, token)
                SELECT r.node_id, coalesce(r.pid, nextval('wbadmin.session_pid')::int), r.username, r.token
                FROM unnest($1::int[], $2::int[], $3::text[], $4::uuid[]) WITH ORDINALITY AS r(node_id, pid, username, token, ord)
                WHERE (SELECT ok FROM ok)
                ORDER BY r.ord
                RETURNING id, pid, started),
            bump AS (
                UPDATE wbadmin.node n SET active_sessions = n.active_sessions + d.k
                FROM unnest($5::int[], $6::int[]) AS d(id, k)
                WHERE n.id = d.id AND (SELECT ok FROM ok))
            SELECT (SELECT ok FROM ok), ins.id, ins.pid, ins.started FROM (SELECT 1) AS one LEFT JOIN ins ON true ORDER BY ins.id
            """);
        var nodeIds = new int[placed.Count];
        var pids = new int?[placed.Count];
        var users = new string[placed.Count];
        var tokens = new Guid[placed.Count];
        var perNode = new Dictionary<int, int>();
        for (var i = 0; i < placed.Count; i++)
        {
            nodeIds[i] = placed[i].NodeId;
            pids[i] = placed[i].Pending.Request.Pid;
            users[i] = placed[i].Pending.Request.UserName;
            tokens[i] = placed[i].Pending.Token;
            perNode[nodeIds[i]] = perNode.GetValueOrDefault(nodeIds[i]) + 1;
        }
        write.Parameters.Add(new NpgsqlParameter { Value = nodeIds });
        write.Parameters.Add(new NpgsqlParameter { Value = pids, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Integer });
        write.Parameters.Add(new NpgsqlParameter { Value = users });
        write.Parameters.Add(new NpgsqlParameter { Value = tokens });
        write.Parameters.Add(new NpgsqlParameter { Value = perNode.Keys.ToArray() });
        write.Parameters.Add(new NpgsqlParameter { Value = perNode.Values.ToArray() });
        if (unchanged is var (rows, offlineAfter))
        {
            write.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Id).ToArray() });
            write.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Version).ToArray() });
            write.Parameters.Add(new NpgsqlParameter { Value = offlineAfter.TotalSeconds });
            write.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.IsOnline(offlineAfter)).ToArray() });
        }
        return write;
    }

    /// <summary>The sessions <see cref="Write"/> recorded, in the order of <paramref name="placed"/>; null when it wrote nothing.</summary>
    private static List<SessionInfo>? ReadWrite(NpgsqlDataReader reader, List<Placed> placed)
    {
        var sessions = new List<SessionInfo>(placed.Count);
        var wrote = false;
        while (reader.Read())
        {
            wrote = reader.GetBoolean(0);
            if (reader.IsDBNull(1)) continue;
            sessions.Add(ToSession(placed[sessions.Count], reader.GetInt64(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }
        if (!wrote) return null;
        if (sessions.Count != placed.Count) throw new InvalidOperationException($"{placed.Count} sessions were to be recorded, {sessions.Count} were.");
        return sessions;
    }

    private static SessionInfo ToSession(Placed placed, long id, int pid, DateTimeOffset started) => new()
    {
        Id = id,
        NodeId = placed.NodeId,
        Node = placed.Decision.Chosen.Node,
        Pid = pid,
        UserName = placed.Pending.Request.UserName,
        Started = started,
        Decision = placed.Decision,
    };

    private static readonly TimeSpan OutcomeWindow = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Runs the round trip that carries a batch's COMMIT (through <see cref="ClusterStore.CommitHook"/> when a test sets one)
    /// and returns what it wrote. When the connection breaks on the way, the server may have committed all the same (its
    /// answer was lost: a restart, a network cut): the callers must then get their sessions, not an error that makes them
    /// place again and record the session twice. It throws <see cref="CommitAnswerLost"/>, and the leader settles the batch
    /// (<see cref="Settle"/>) once it has passed the lead on.
    /// </summary>
    private List<SessionInfo>? CommitTrip(NpgsqlConnection connection, List<Placed> placed, List<(Pending, WbException)> errors, bool transactionOpen,
                                          Func<List<SessionInfo>?> trip)
    {
        var backend = Identify(connection); // now: a broken connection no longer tells
        var commit = new PlacementCommit(trip, () => { if (transactionOpen) Exec(connection, "ROLLBACK"); });
        try
        {
            (store.CommitHook ?? (c => c.Commit()))(commit);
            return commit.Sessions;
        }
        // Even while the command is being stopped: a broken connection leaves the outcome open either way.
        catch (Exception e) when (DatabaseErrors.IsConnectionFailure(e) && placed.Count > 0)
        {
            store.DataSource.Clear(); // every pooled connection to a restarted server is dead
            throw new CommitAnswerLost(DatabaseErrors.Map(e, store.Target), e, backend, placed, errors);
        }
    }

    /// <summary>A batch whose commit answer was lost, to be settled by the leader once the lead has passed.</summary>
    private sealed class CommitAnswerLost(WbException notCommitted, Exception lost, Backend backend, List<Placed> placed, List<(Pending, WbException)> errors)
        : WbException(notCommitted.ErrorId, notCommitted.Category, notCommitted.Message, notCommitted.Target, lost)
    {
        /// <summary>What the callers hear when the batch proves not recorded.</summary>
        public WbException NotCommitted { get; } = notCommitted;
        public Exception Lost { get; } = lost;
        public Backend Backend { get; } = backend;
        public List<Placed> Batch { get; } = placed;
        public List<(Pending, WbException)> Errors { get; } = errors;
    }

    /// <summary>A server process: its id and start time, since after a restart or a cut the id may name another process.</summary>
    internal sealed record Backend(int Pid, DateTime Started);

    /// <summary>
    /// Backends by physical connection. The key is the connection's server-parameter dictionary, which Npgsql keeps one of
    /// per physical connection for its life: a new physical connection is asked again even if it got a reused process id.
    /// Weak, so an entry goes with its connection.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, Backend> Backends = new();

    /// <summary>This connection's backend: asked once per physical connection, then known.</summary>
    internal static Backend Identify(NpgsqlConnection connection)
    {
        var key = connection.PostgresParameters;
        if (Backends.TryGetValue(key, out var known) && known.Pid == connection.ProcessID) return known;
        using var command = new NpgsqlCommand("SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()", connection);
        var backend = new Backend(connection.ProcessID, (DateTime)command.ExecuteScalar()!);
        Backends.AddOrUpdate(key, backend);
        return backend;
    }

    /// <summary>
    /// Ends <paramref name="backend"/> if it still runs, and waits up to 2 s for it to exit: true when it is gone (ended now,
    /// or already). Only a process with the same id and start time is ended: one whose id was reused (another connection,
    /// maybe Workbench's own on the same database and role) is left alone, and means ours is gone.
    /// </summary>
    internal static NpgsqlBatchCommand EndBackend(Backend backend) => new(
        "SELECT coalesce((SELECT pg_terminate_backend(pid, 2000) FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2 AND pid <> pg_backend_pid()), true)")
    {
        Parameters = { new NpgsqlParameter { Value = backend.Pid }, new NpgsqlParameter { Value = backend.Started } },
    };

    /// <summary>
    /// Learns on a new connection, for up to <see cref="OutcomeWindow"/> while the server comes back, whether a batch whose
    /// commit answer was lost was recorded: its sessions when it was, null when it was not.
    /// <para>
    /// The answer must be final: a transaction still alive could commit after the look (its COMMIT may sit unread in the
    /// server's socket, or wait for the placement lock behind another process). One-trip placements send BEGIN to COMMIT
    /// in one message, so no transaction id is known before the answer; instead the old server process is ended
    /// (<see cref="EndBackend"/>: by process id and start time, learnt when the connection was first used to place) and
    /// waited for: a backend ends its transaction before it leaves the process table, so once no process has that id and
    /// start time, its transaction committed or never will. This also frees the placement lock at once where a cut
    /// connection's backend would hold it until TCP gave up.
    /// Then the placement tokens decide: unique per placement and written with its row, they name exactly this batch's
    /// rows (a transaction id may be handed out again after a crash, an id and start time proved nothing alone).
    /// </para>
    /// </summary>
    private List<SessionInfo>? Settle(Backend backend, List<Placed> placed, Exception lost, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + OutcomeWindow;
        var tokens = placed.Select(p => p.Pending.Token).ToArray();
        string? lastProblem = null;
        while (true)
        {
            try
            {
                using var connection = store.DataSource.OpenConnection();
                using var look = new NpgsqlBatch(connection);
                look.BatchCommands.Add(EndBackend(backend));
                look.BatchCommands.Add(new NpgsqlBatchCommand("SELECT token, id, pid, started FROM wbadmin.session WHERE token = ANY($1)")
                    { Parameters = { new NpgsqlParameter { Value = tokens } } });
                using var reader = look.ExecuteReader();
                reader.Read();
                var gone = reader.GetBoolean(0);
                reader.NextResult();
                var found = new Dictionary<Guid, (long Id, int Pid, DateTimeOffset Started)>();
                while (reader.Read()) found[reader.GetGuid(0)] = (reader.GetInt64(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3));
                if (!gone) lastProblem = $"its server process {backend.Pid} was still running";
                else if (found.Count == placed.Count)
                    return placed.Select(p => { var (id, pid, started) = found[p.Pending.Token]; return ToSession(p, id, pid, started); }).ToList();
                else if (found.Count == 0) return null;
                else lastProblem = $"{found.Count} of its {placed.Count} rows were found";
            }
            catch (Exception again) when (DatabaseErrors.IsConnectionFailure(again) || again is PostgresException)
            {
                lastProblem = again.Message;
            }
            if (DateTime.UtcNow > deadline || cancel.WaitHandle.WaitOne(200))
                throw new WbException("PlacementOutcomeUnknown", WbErrorCategory.ConnectionError,
                    $"The connection to {store.Target.Description} broke while {placed.Count} placement(s) were committing, and whether they were " +
                    $"recorded could not be learnt ({lastProblem}): check Get-WbSession for the user before placing again.", store.Target.Description, lost);
        }
    }

    private static void Exec(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>Ends a transaction a failure left open, if the connection still works (the pool would roll it back too).</summary>
    private static void Rollback(NpgsqlConnection connection)
    {
        if (connection.FullState != System.Data.ConnectionState.Open) return;
        try { Exec(connection, "ROLLBACK"); }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { } // the connection is being dropped anyway
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

    /// <param name="Version">The row's xmin: any change to the row changes it.</param>
    private sealed record NodeRow(int Id, long Version, string Host, string? IPv4, int Port, string Status, double AgeSeconds,
                                  double Load1, double Load5, double Load15, int? Cores, int Active, bool Draining)
    {
        public bool IsOnline(TimeSpan offlineAfter) => Status == NodeStatus.Online && AgeSeconds <= offlineAfter.TotalSeconds;

        public NodeCandidate ToCandidate(TimeSpan offlineAfter) => new()
        {
            Id = Id, Host = Host, IPv4Address = IPv4, Port = Port, Online = IsOnline(offlineAfter), Draining = Draining,
            ActiveSessions = Active, Load1 = Load1, Load5 = Load5, Load15 = Load15, Cores = Cores,
        };
    }

    private const string ReadNodesSql = """
        SELECT id, xmin::text::bigint, host, ipv4, port, status, extract(epoch FROM now() - last_seen)::float8,
               load1, load5, load15, cores, active_sessions, draining_since IS NOT NULL
        FROM wbadmin.node ORDER BY id
        """;

    /// <summary>The first round trip: BEGIN, take the placement lock, read the nodes.</summary>
    private static List<NodeRow> LockAndRead(NpgsqlConnection connection)
    {
        using var read = new NpgsqlBatch(connection);
        read.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        read.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({ClusterStore.ClusterLock})"));
        read.BatchCommands.Add(new NpgsqlBatchCommand(ReadNodesSql));
        read.Prepare();
        using var reader = read.ExecuteReader();
        reader.NextResult(); // from the lock's result (BEGIN has none, so the reader skips it)
        return ReadNodes(reader);
    }

    private static List<NodeRow> ReadNodes(NpgsqlDataReader reader)
    {
        var rows = new List<NodeRow>();
        while (reader.Read())
        {
            rows.Add(new NodeRow(reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4),
                reader.GetString(5), reader.GetDouble(6), reader.GetDouble(7), reader.GetDouble(8), reader.GetDouble(9),
                reader.IsDBNull(10) ? null : reader.GetInt32(10), reader.GetInt32(11), reader.GetBoolean(12)));
        }
        return rows;
    }
}

/// <summary>
/// The round trip that carries a placement batch's COMMIT, as <see cref="ClusterStore.CommitHook"/> sees it: tests run it
/// (<see cref="Commit"/>) or roll the transaction back instead (<see cref="Rollback"/>), then throw as a lost answer would.
/// </summary>
internal sealed class PlacementCommit(Func<List<SessionInfo>?> trip, Action rollback)
{
    internal List<SessionInfo>? Sessions { get; private set; }
    public void Commit() => Sessions = trip();
    public void Rollback() => rollback();
}
