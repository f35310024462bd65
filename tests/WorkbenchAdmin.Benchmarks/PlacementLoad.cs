using System.Diagnostics;
using Npgsql;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// Placements per second and p50/p99 latency with 1, 8 and 16 concurrent callers, against a plain
/// single-row INSERT with the same concurrency on the same server (targets: 0.6 / 0.8 / 0.9 of it); then
/// the same 16 callers spread over one process per node, as on a real cluster, against all 16 in one process
/// (target: 0.8 of it). A load run, not a BenchmarkDotNet job: it needs real concurrency and processes.
/// Run: dotnet run -c Release --project tests/WorkbenchAdmin.Benchmarks -- placement
/// </summary>
public static class PlacementLoad
{
    private const int Nodes = 4;
    private static readonly TimeSpan RunFor = TimeSpan.FromSeconds(6);

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
        foreach (var callers in new[] { 1, 8, 16 })
        {
            var place = Measure(callers, (t, i) => store.PlaceSession(new PlacementRequest($"u{t}-{i}", SessionsPolicy.Instance) { OfflineAfter = TimeSpan.FromHours(1) }));
            var plain = Measure(callers, (t, i) =>
            {
                using var connection = store.DataSource.OpenConnection();
                using var insert = new NpgsqlCommand("INSERT INTO bench_plain (username) VALUES ($1)", connection);
                insert.Parameters.Add(new NpgsqlParameter { Value = $"u{t}-{i}" });
                insert.ExecuteNonQuery();
            });
            Console.WriteLine($"| {callers,7} | {place.Rate,12:0} | {place.P50,6:0.00} | {place.P99,6:0.00} | {plain.Rate,14:0} | {plain.P50,6:0.00} | {plain.P99,6:0.00} | {place.Rate / plain.Rate,5:0.00} |");
        }

        const int perProcess = 4;
        Console.WriteLine();
        Console.WriteLine($"| {Nodes * perProcess} callers | placements/s |");
        Console.WriteLine($"|------------|-------------:|");
        var one = Measure(Nodes * perProcess, (t, i) => store.PlaceSession(new PlacementRequest($"one{t}-{i}", SessionsPolicy.Instance) { OfflineAfter = TimeSpan.FromHours(1) }));
        var spread = MeasureProcesses(target.ConnectionString, Nodes, perProcess);
        Console.WriteLine($"| 1 process  | {one.Rate,12:0} |");
        Console.WriteLine($"| {Nodes} processes | {spread,10:0} | {spread / one.Rate:0.00} of one process");
    }

    private const string ConnectionVariable = "WB_BENCH_PLACEMENT_CONNECTION";

    /// <summary>Placements/s from <paramref name="processes"/> copies of this program, each with <paramref name="callers"/> threads.</summary>
    private static double MeasureProcesses(string connectionString, int processes, int callers)
    {
        var startAt = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds(); // time to start and warm up
        var self = Environment.ProcessPath!;
        var children = Enumerable.Range(0, processes).Select(p =>
        {
            var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(PlacementLoad).Assembly.Location);
            foreach (var a in new[] { "placement-worker", $"{callers}", $"{startAt}", RunFor.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), $"p{p}" }) info.ArgumentList.Add(a);
            info.Environment[ConnectionVariable] = connectionString; // not on the command line: it holds the password
            return Process.Start(info)!;
        }).ToList();
        var total = 0L;
        foreach (var child in children)
        {
            var output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            if (child.ExitCode != 0) throw new InvalidOperationException($"A placement worker failed (exit {child.ExitCode}).");
            total += long.Parse(output.Trim());
        }
        return total / RunFor.TotalSeconds;
    }

    /// <summary>One process of <see cref="MeasureProcesses"/>: warms up, places from the agreed start for the agreed time, prints the count.</summary>
    public static void Worker(int callers, long startAtUnixMs, double seconds, string prefix)
    {
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = Environment.GetEnvironmentVariable(ConnectionVariable) });
        var store = new ClusterStore(target);
        var request = (string user) => new PlacementRequest(user, SessionsPolicy.Instance) { OfflineAfter = TimeSpan.FromHours(1) };
        for (var i = 0; i < 20; i++) store.PlaceSession(request($"{prefix}-warm-{i}"));
        var wait = DateTimeOffset.FromUnixTimeMilliseconds(startAtUnixMs) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var count = 0L;
        var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
        {
            for (var i = 0; Stopwatch.GetTimestamp() < stopAt; i++)
            {
                store.PlaceSession(request($"{prefix}-{t}-{i}"));
                Interlocked.Increment(ref count);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Console.WriteLine(count);
    }

    private sealed record Result(double Rate, double P50, double P99);

    private static Result Measure(int callers, Action<int, int> call)
    {
        for (var i = 0; i < 50; i++) call(0, -i - 1); // warm the pool and the JIT
        var latencies = new List<double>[callers];
        var stopAt = Stopwatch.GetTimestamp() + (long)(RunFor.TotalSeconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
        {
            var mine = latencies[t] = new List<double>(100_000);
            for (var i = 0; Stopwatch.GetTimestamp() < stopAt; i++)
            {
                var start = Stopwatch.GetTimestamp();
                call(t, i);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length / elapsed, all[(int)(all.Length * 0.50)], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))]);
    }
}
