using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Balancing.Live;

/// <summary>What one source said: its data, or why there is none.</summary>
public sealed record SourceResult<T>(T? Value, string? Problem) where T : class;

/// <summary>
/// Reads the status page and the store at the same time, each bounded by one deadline. A source that has not
/// answered when the deadline passes is abandoned, not awaited: the program exits right after deciding, and a
/// hung server (a stopped PostgreSQL, a status page that never answers) must never hold a user's login.
/// </summary>
public static class ClusterDataReader
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    public static (SourceResult<IReadOnlyList<NodeSessionLoad>> Status, SourceResult<StoreView> Store) Read(
        ConfigRoot root, string statusUri, TimeSpan budget, Func<ConfigRoot, StoreView>? readStore = null)
    {
        using var deadline = new CancellationTokenSource(budget);
        var status = Task.Run(() => ReadStatus(statusUri, deadline.Token));
        var store = Task.Run(() => (readStore ?? ReadStore)(root));
        try { Task.WaitAll([status, store], budget); } catch (AggregateException) { /* each task's own failure is read below */ }
        return (Outcome(status, $"the status page {statusUri}", budget), Outcome(store, "the store", budget));
    }

    private static SourceResult<T> Outcome<T>(Task<T> task, string what, TimeSpan budget) where T : class
    {
        if (task.IsCompletedSuccessfully) return new(task.Result, null);
        if (!task.IsCompleted || task.IsCanceled) return new(null, $"{what} did not answer within {budget.TotalMilliseconds:0} ms");
        var e = task.Exception!.GetBaseException();
        return new(null, $"{what} failed: {(e is OperationCanceledException ? $"no answer within {budget.TotalMilliseconds:0} ms" : e.Message)}");
    }

    private static async Task<IReadOnlyList<NodeSessionLoad>> ReadStatus(string uri, CancellationToken cancel)
    {
        using var response = await Http.GetAsync(uri, HttpCompletionOption.ResponseContentRead, cancel).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        return SessionLoadText.Parse(text, uri);
    }

    private static StoreView ReadStore(ConfigRoot root)
    {
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = root.Path });
        var (nodes, loads) = new ClusterStore(target).GetClusterView(ClusterStore.DefaultOfflineAfter);
        return new StoreView(nodes, loads);
    }
}

/// <summary>The store's nodes and, per node, its sessions.</summary>
public sealed record StoreView(IReadOnlyList<NodeInfo> Nodes, IReadOnlyList<NodeSessionLoad> Loads);
