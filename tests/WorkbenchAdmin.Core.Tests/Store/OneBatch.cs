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

    public static (Outcome First, IReadOnlyList<Outcome> Batch) Place(ClusterStore store, PlacementRequest first, IReadOnlyList<PlacementRequest> batch)
    {
        using var hold = store.DataSource.OpenConnection();
        Exec(hold, $"SELECT pg_advisory_lock({ClusterStore.ClusterLock})");
        var leader = Start(store, first);
        Until(() => Scalar(hold, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 1, "the first placement waits on the lock");
        var queued = batch.Select(r => Start(store, r)).ToList();
        Until(() => store.QueuedPlacements == batch.Count, $"{batch.Count} placements queue behind it");
        Exec(hold, $"SELECT pg_advisory_unlock({ClusterStore.ClusterLock})");
        return (leader(), queued.Select(q => q()).ToList());
    }

    private static Func<Outcome> Start(ClusterStore store, PlacementRequest request)
    {
        Outcome? outcome = null;
        var thread = new Thread(() =>
        {
            try { outcome = new Outcome(request, store.PlaceSession(request), null); }
            catch (Exception e) { outcome = new Outcome(request, null, e); }
        });
        thread.Start();
        return () =>
        {
            if (!thread.Join(TimeSpan.FromSeconds(30))) throw new TimeoutException($"the placement for '{request.UserName}' did not finish");
            return outcome!;
        };
    }

    private static void Until(Func<bool> condition, string what)
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

    private static long Scalar(NpgsqlConnection connection, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection);
        return (long)cmd.ExecuteScalar()!;
    }
}
