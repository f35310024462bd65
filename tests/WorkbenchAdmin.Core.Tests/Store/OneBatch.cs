using Npgsql;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>
/// Concurrent placements from one process that are certain to share one batch (one transaction): a first
/// placement leads and waits on the placement lock, held here; the others queue behind it; the lock is
/// released once all of them wait, and the next leader takes them all.
/// </summary>
internal static class OneBatch
{
    public sealed record Outcome(PlacementRequest Request, SessionInfo? Session, Exception? Error);

    /// <param name="stopLeader">Stops the command of the batch's first request, which leads it (Ctrl+C).</param>
    /// <param name="whileRunning">Runs once the batch is released, while its placements run.</param>
    public static (Outcome First, IReadOnlyList<Outcome> Batch) Place(ClusterStore store, PlacementRequest first, IReadOnlyList<PlacementRequest> batch,
        CancellationToken stopLeader = default, Action? whileRunning = null)
    {
        using var hold = store.DataSource.OpenConnection();
        Exec(hold, $"SELECT pg_advisory_lock({ClusterStore.ClusterLock})");
        var leader = Start(store, first, default);
        Until(() => Scalar(hold, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 1, "the first placement waits on the lock");
        var queued = batch.Select((r, i) => Start(store, r, i == 0 ? stopLeader : default)).ToList();
        Until(() => store.QueuedPlacements == batch.Count, $"{batch.Count} placements queue behind it");
        Exec(hold, $"SELECT pg_advisory_unlock({ClusterStore.ClusterLock})");
        whileRunning?.Invoke();
        return (leader(), queued.Select(q => q()).ToList());
    }

    private static Func<Outcome> Start(ClusterStore store, PlacementRequest request, CancellationToken stop)
    {
        Outcome? outcome = null;
        var thread = new Thread(() =>
        {
            try { outcome = new Outcome(request, store.PlaceSession(request, stop), null); }
            catch (Exception e) { outcome = new Outcome(request, null, e); }
        }) { IsBackground = true }; // a placement left waiting must not keep the test run alive
        thread.Start();
        return () =>
        {
            if (!thread.Join(TimeSpan.FromSeconds(30))) throw new TimeoutException($"the placement for '{request.UserName}' did not finish");
            return outcome!;
        };
    }

    public static void Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 10 s for: {what}");
            Thread.Sleep(5);
        }
    }

    private static void Exec(NpgsqlConnection connection, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection);
        cmd.ExecuteNonQuery();
    }

    public static long Scalar(NpgsqlConnection connection, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection);
        return (long)cmd.ExecuteScalar()!;
    }
}
