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
    /// <summary>Starts reading the store; started first, as soon as the configuration root is known: its connection is the slowest part.</summary>
    public static Task<StoreView> StartStore(ConfigRoot root, Func<ConfigRoot, StoreView>? readStore = null) =>
        Task.Run(() => (readStore ?? (r => ReadStore(r)))(root));

    /// <summary>Reads the status page, and waits for it and the store until <paramref name="budget"/> has passed since <paramref name="started"/>.</summary>
    public static (SourceResult<IReadOnlyList<NodeSessionLoad>> Status, SourceResult<StoreView> Store) Collect(
        Task<StoreView> store, string statusUri, TimeSpan budget, long started, TimeProvider time)
    {
        var left = budget - time.GetElapsedTime(started);
        if (left < TimeSpan.FromMilliseconds(1)) left = TimeSpan.FromMilliseconds(1);
        using var deadline = new CancellationTokenSource(left);
        var status = Task.Run(() => ReadStatus(statusUri, deadline.Token));
        try { Task.WaitAll([status, store], left); } catch (AggregateException) { /* each task's own failure is read below */ }
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
        using var response = await StatusClient.Http.GetAsync(uri, HttpCompletionOption.ResponseContentRead, cancel).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        return SessionLoadText.Parse(text, uri);
    }

    /// <param name="dataSource">
    /// The data source for the store's target, when the caller keeps its own (the decision service); else the
    /// module's, without type loading: a process that lives for one decision would pay for the server's type
    /// catalogue on connect (a round trip and a large result), and the view needs only built-in types.
    /// </param>
    public static StoreView ReadStore(ConfigRoot root, Func<DatabaseTarget, Npgsql.NpgsqlDataSource>? dataSource = null)
    {
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = root.Path });
        var store = dataSource is null ? new ClusterStore(target, loadTypes: false) : new ClusterStore(target, dataSource(target));
        var (nodes, loads) = store.GetClusterView(ClusterStore.DefaultOfflineAfter);
        return new StoreView(nodes, loads);
    }
}

/// <summary>The store's nodes and, per node, its sessions.</summary>
public sealed record StoreView(IReadOnlyList<NodeInfo> Nodes, IReadOnlyList<NodeSessionLoad> Loads);

/// <summary>The HTTP client, in a class of its own so that setting it up happens on the status page's thread, beside the store's connection.</summary>
internal static class StatusClient
{
    public static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
}
