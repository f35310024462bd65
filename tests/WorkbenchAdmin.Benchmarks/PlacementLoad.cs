using System.Diagnostics;
using Npgsql;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// Placements per second and p50/p99 latency with 1, 8 and 16 concurrent callers, against a plain
/// single-row INSERT with the same concurrency on the same server (targets: 0.6 / 0.8 / 0.9 of it); then
/// the same 16 callers spread over one process per node, as on a real cluster, against all 16 in one process
/// (target: 0.8 of it); and, as the floor of the first row, one caller running a placement's writes alone. A load run, not a BenchmarkDotNet job: it needs real concurrency and processes.
/// Run: dotnet run -c Release --project tests/WorkbenchAdmin.Benchmarks -- placement
/// </summary>
public static class PlacementLoad
{
    private const int Nodes = 4;

    public static void Run()
    {
        using var server = ThrowawayPostgres.Start();
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = server.ConnectionString() + ";Maximum Pool Size=64" });
        var store = new ClusterStore(target);
        store.Initialize();
        for (var i = 1; i <= Nodes; i++)
            store.ReportNode(new NodeIdentity($"node{i}", 8787, $"10.0.0.{i}", "http", "key", false),
                new NodeReport { Load5 = 0.5, Cores = 4 }, mustExist: false, TimeSpan.FromHours(1));
        using (var c = store.DataSource.OpenConnection())
        using (var create = new NpgsqlCommand("CREATE TABLE bench_plain (id bigserial PRIMARY KEY, username text NOT NULL, created timestamptz NOT NULL DEFAULT now())", c))
            create.ExecuteNonQuery();

        Console.WriteLine($"| callers | placements/s | p50 ms | p99 ms | plain INSERT/s | p50 ms | p99 ms | ratio |");
        Console.WriteLine($"|--------:|-------------:|-------:|-------:|---------------:|-------:|-------:|------:|");
        var place = (int t, int i) => { store.PlaceSession(Request($"u{t}-{i}")); };
        var plainInsert = (int t, int i) =>
        {
            using var connection = store.DataSource.OpenConnection();
            using var insert = new NpgsqlCommand("INSERT INTO bench_plain (username) VALUES ($1)", connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = $"u{t}-{i}" });
            insert.ExecuteNonQuery();
        };
        foreach (var callers in new[] { 1, 8, 16 })
        {
            var (placed, plain) = Measure(callers, place, plainInsert);
            Console.WriteLine($"| {callers,7} | {placed.Rate,12:0} | {placed.P50,6:0.00} | {placed.P99,6:0.00} | {plain.Rate,14:0} | {plain.P50,6:0.00} | {plain.P99,6:0.00} | {placed.Rate / plain.Rate,5:0.00} |");
        }

        // The floor of one placement: its writes and reads alone, without a decision or a check, in one round trip. What the
        // server must do for it whatever the client does: the session row (four indexes, a foreign key), its node's count,
        // the lock (a key of its own: nothing else runs meanwhile), the node rows for the next decision.
        var (alone, plainAgain) = Measure(1, (t, i) =>
        {
            using var connection = store.DataSource.OpenConnection();
            using var trip = new NpgsqlBatch(connection);
            trip.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            trip.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(1)"));
            trip.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO wbadmin.session (node_id, pid, username, token) VALUES ($1, nextval('wbadmin.session_pid')::int, $2, $3)")
                { Parameters = { new() { Value = 1 + (i & 3) }, new() { Value = $"w{t}-{i}" }, new() { Value = Guid.NewGuid() } } });
            trip.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE wbadmin.node SET active_sessions = active_sessions + 1 WHERE id = $1") { Parameters = { new() { Value = 1 + (i & 3) } } });
            trip.BatchCommands.Add(new NpgsqlBatchCommand("SELECT * FROM wbadmin.node ORDER BY id"));
            trip.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            trip.Prepare();
            using var reader = trip.ExecuteReader();
            do { while (reader.Read()) { } } while (reader.NextResult());
        }, plainInsert);
        Console.WriteLine();
        Console.WriteLine($"1 caller, a placement's writes alone (no decision, no check; one round trip): {alone.Rate:0}/s vs plain INSERT {plainAgain.Rate:0}/s, ratio {alone.Rate / plainAgain.Rate:0.00}");

        // The same callers, all in this process (its slices) or spread over one process per node (theirs).
        const int perProcess = 4;
        var startAt = DateTimeOffset.UtcNow.AddSeconds(5); // time for the workers to start and warm up
        var workers = StartWorkers(target.ConnectionString, Nodes, perProcess, startAt);
        for (var i = 0; i < 50; i++) place(0, -i - 1);
        var one = new Side();
        for (var slice = 0; slice < Slices; slice += 2) one.Add(RunSlice(Nodes * perProcess, place, slice, startAt));
        var spread = workers.Sum(Finish) / (Slices / 2 * SliceLength.TotalSeconds);
        Console.WriteLine();
        Console.WriteLine($"| {Nodes * perProcess} callers   | placements/s | ratio |");
        Console.WriteLine($"|-------------|-------------:|------:|");
        Console.WriteLine($"| 1 process   | {one.Result.Rate,12:0} |       |");
        Console.WriteLine($"| {Nodes} processes | {spread,12:0} | {spread / one.Result.Rate,5:0.00} |");
    }

    // Both sides of a comparison run in alternating one-second slices, so a change in the machine's load (other builds
    // share its two cores) hits both alike; each side gets six slices.
    private const int Slices = 12;
    private static readonly TimeSpan SliceLength = TimeSpan.FromSeconds(1);
    private const string ConnectionVariable = "WB_BENCH_PLACEMENT_CONNECTION";

    private static PlacementRequest Request(string user) => new(user, SessionsPolicy.Instance) { OfflineAfter = TimeSpan.FromHours(1) };

    private sealed record Result(double Rate, double P50, double P99);

    /// <summary>The calls of one side's slices: how many, how long they took, over how long.</summary>
    private sealed class Side
    {
        private readonly List<double> _latencies = [];
        private double _seconds;

        public void Add((List<double> Latencies, double Seconds) slice)
        {
            _latencies.AddRange(slice.Latencies);
            _seconds += slice.Seconds;
        }

        public Result Result
        {
            get
            {
                var all = _latencies.Order().ToArray();
                return new Result(all.Length / _seconds, all[(int)(all.Length * 0.50)], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]);
            }
        }
    }

    private static (Result A, Result B) Measure(int callers, Action<int, int> a, Action<int, int> b)
    {
        for (var i = 0; i < 50; i++) { a(0, -i - 1); b(0, -i - 1); } // warm the pool and the JIT
        var (sideA, sideB) = (new Side(), new Side());
        var startAt = DateTimeOffset.UtcNow;
        for (var slice = 0; slice < Slices; slice++)
            (slice % 2 == 0 ? sideA : sideB).Add(RunSlice(callers, slice % 2 == 0 ? a : b, slice, startAt));
        return (sideA.Result, sideB.Result);
    }

    /// <summary>
    /// Slice <paramref name="slice"/> of the schedule that starts at <paramref name="startAt"/>: waits for its start, then
    /// <paramref name="callers"/> threads call until its end. Their latencies in ms, and the seconds it ran.
    /// </summary>
    private static (List<double> Latencies, double Seconds) RunSlice(int callers, Action<int, int> call, int slice, DateTimeOffset startAt)
    {
        var begin = startAt + slice * SliceLength;
        var wait = begin - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
        var clock = Stopwatch.StartNew();
        var stopAt = Stopwatch.GetTimestamp() + (long)((begin + SliceLength - DateTimeOffset.UtcNow).TotalSeconds * Stopwatch.Frequency);
        var latencies = new List<double>[callers];
        var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
        {
            var mine = latencies[t] = new List<double>(10_000);
            for (var i = 0; Stopwatch.GetTimestamp() < stopAt; i++)
            {
                var start = Stopwatch.GetTimestamp();
                call(t, slice * 1_000_000 + i);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return (latencies.SelectMany(l => l).ToList(), clock.Elapsed.TotalSeconds);
    }

    /// <summary>Copies of this program, each placing with <paramref name="callers"/> threads in the odd slices from <paramref name="startAt"/>.</summary>
    private static List<Process> StartWorkers(string connectionString, int processes, int callers, DateTimeOffset startAt)
    {
        var self = Environment.ProcessPath!;
        return Enumerable.Range(0, processes).Select(p =>
        {
            var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(PlacementLoad).Assembly.Location);
            foreach (var a in new[] { "placement-worker", $"{callers}", $"{startAt.ToUnixTimeMilliseconds()}", $"p{p}" }) info.ArgumentList.Add(a);
            info.Environment[ConnectionVariable] = connectionString; // not on the command line: it holds the password
            return Process.Start(info)!;
        }).ToList();
    }

    /// <summary>How many placements a worker made; it prints that number last.</summary>
    private static long Finish(Process worker)
    {
        var output = worker.StandardOutput.ReadToEnd();
        worker.WaitForExit();
        if (worker.ExitCode != 0) throw new InvalidOperationException($"A placement worker failed (exit {worker.ExitCode}).");
        return long.Parse(output.Trim());
    }

    /// <summary>One process of the multi-process comparison: warms up, places in the odd slices, prints its count.</summary>
    public static void Worker(int callers, long startAtUnixMs, string prefix)
    {
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = Environment.GetEnvironmentVariable(ConnectionVariable) });
        var store = new ClusterStore(target);
        for (var i = 0; i < 20; i++) store.PlaceSession(Request($"{prefix}-warm-{i}"));
        var startAt = DateTimeOffset.FromUnixTimeMilliseconds(startAtUnixMs);
        var count = 0L;
        for (var slice = 1; slice < Slices; slice += 2)
            count += RunSlice(callers, (t, i) => store.PlaceSession(Request($"{prefix}-{t}-{i}")), slice, startAt).Latencies.Count;
        Console.WriteLine(count);
    }
}
