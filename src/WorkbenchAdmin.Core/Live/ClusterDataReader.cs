using WorkbenchAdmin.Core.Formats;
using System.Net;
using System.Net.Sockets;
using System.Text;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Store;

using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Live;

/// <summary>What one source said: its data, or why there is none.</summary>
public sealed record SourceResult<T>(T? Value, string? Problem) where T : class;

/// <summary>
/// A status page and who may serve it: root, rserver's <c>server-user</c> and the user running us. Anyone else
/// listening at its address (a port rserver does not own: 127.0.0.1 or ::1 beside a specific www-address) could
/// steer or refuse every decision with the counts it serves.
/// The server-user is looked up only for a page root or we do not serve: the lookup loads the system's name services
/// (libnss_systemd and what it links), a cost a decision should not pay when root serves the page.
/// </summary>
public sealed class StatusPage
{
    private readonly string _serverUser;
    private readonly Lazy<uint?> _serverUid;

    private StatusPage(string uri, string serverUser)
    {
        Uri = uri;
        _serverUser = serverUser;
        _serverUid = new Lazy<uint?>(() => UnixFile.UserId(serverUser));
    }

    public static StatusPage Of(string uri, RServerConfig rserver) => new(uri, rserver.ServerUser);

    public string Uri { get; }

    public bool IsOwner(uint uid) => uid == 0 || uid == UnixFile.EffectiveUserId || uid == _serverUid.Value;

    /// <summary>Who may serve the page, for a message.</summary>
    public string OwnersText
    {
        get
        {
            var names = new List<string> { "root" };
            if (_serverUid.Value is { } server && server != 0 && server != UnixFile.EffectiveUserId) names.Add($"{_serverUser} (uid {server}, rserver's server-user)");
            if (UnixFile.EffectiveUserId != 0 && UnixFile.EffectiveUserId != uint.MaxValue) names.Add($"uid {UnixFile.EffectiveUserId} (this program's)");
            return string.Join(" or ", names);
        }
    }
}

/// <summary>
/// Reads the status page and the store at the same time, each bounded by one deadline. A source that has not
/// answered when the deadline passes is abandoned and cancelled: the program exits right after deciding, but the
/// decision service lives on, and a read it left running (a page that trickles forever, a hung PostgreSQL) would
/// hold a connection and a thread for nothing. A hung server must never hold a user's login.
/// </summary>
public static class ClusterDataReader
{

    /// <summary>A read started, and the means to cancel it when it is abandoned.</summary>
    public sealed class PendingRead<T>
    {
        private readonly CancellationTokenSource _cancel;

        internal PendingRead(Func<CancellationToken, Task<T>> read)
        {
            _cancel = new CancellationTokenSource();
            var token = _cancel.Token;
            Task = System.Threading.Tasks.Task.Run(() => read(token), token);
            // Disposed only once the read has ended: a read still running may yet register on the token.
            Task.ContinueWith(_ => _cancel.Dispose(), TaskScheduler.Default);
        }

        public Task<T> Task { get; }

        /// <summary>Cancels the read when it has not ended (it then ends soon, and nothing waits for it).</summary>
        public void Abandon()
        {
            if (Task.IsCompleted) return;
            try { _cancel.Cancel(); }
            catch (ObjectDisposedException) { } // it ended meanwhile
        }
    }

    /// <summary>
    /// Starts reading the store; started first, as soon as the configuration root is known: its connection is the slowest part.
    /// <paramref name="readStore"/> replaces the reading (tests make it hang); else <see cref="ReadStore"/>, bounded by <paramref name="within"/>.
    /// </summary>
    public static PendingRead<StoreView> StartStore(ConfigRoot root, TimeSpan within, Func<ConfigRoot, StoreView>? readStore = null,
                                                    Func<DatabaseTarget, Npgsql.NpgsqlDataSource>? dataSource = null) =>
        new(cancel =>
        {
            // Abandoning the read cancels its query on the server.
            return Task.FromResult(readStore is null ? ReadStore(root, dataSource, within, cancel) : readStore(root));
        });

    /// <summary>
    /// Reads the status page on this thread while the store is read on its own (one thread fewer to start: the program
    /// lives for one decision), then waits for the store until <paramref name="budget"/> has passed since
    /// <paramref name="started"/>; cancels what is late.
    /// </summary>
    public static (SourceResult<IReadOnlyList<NodeSessionLoad>> Status, SourceResult<StoreView> Store) Collect(
        PendingRead<StoreView> store, StatusPage page, TimeSpan budget, long started, TimeProvider time) =>
        (ReadStatus(page, budget, started, time), WaitStore(store, budget, started, time));

    /// <summary>What is left of <paramref name="budget"/> since <paramref name="started"/>: at least a millisecond, so a late source is still tried once.</summary>
    private static TimeSpan Left(TimeSpan budget, long started, TimeProvider time)
    {
        var left = budget - time.GetElapsedTime(started);
        return left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left;
    }

    /// <summary>Reads the status page on this thread until <paramref name="budget"/> has passed since <paramref name="started"/>.</summary>
    public static SourceResult<IReadOnlyList<NodeSessionLoad>> ReadStatus(StatusPage page, TimeSpan budget, long started, TimeProvider time)
    {
        var what = $"the status page {page.Uri}";
        try
        {
            return new(StatusPageClient.Fetch(page.Uri, page, Left(budget, started, time), CancellationToken.None), null);
        }
        catch (Exception e) when (e is IOException or TimeoutException or System.Security.Authentication.AuthenticationException or UriFormatException)
        {
            return new(null, e switch
            {
                UntrustedPeerException => $"{what} is not read: {e.Message}",
                TimeoutException => $"{what} did not answer within {budget.TotalMilliseconds:0} ms",
                _ => $"{what} failed: {e.Message}",
            });
        }
    }

    /// <summary>Waits for the store until <paramref name="budget"/> has passed since <paramref name="started"/>; cancels it when it is late.</summary>
    public static SourceResult<StoreView> WaitStore(PendingRead<StoreView> store, TimeSpan budget, long started, TimeProvider time)
    {
        try { store.Task.Wait(Left(budget, started, time)); } catch (AggregateException) { /* its own failure is read below */ }
        store.Abandon();
        return Outcome(store.Task, "the store", budget);
    }

    private static SourceResult<T> Outcome<T>(Task<T> task, string what, TimeSpan budget) where T : class
    {
        if (task.IsCompletedSuccessfully) return new(task.Result, null);
        if (!task.IsCompleted || task.IsCanceled) return new(null, $"{what} did not answer within {budget.TotalMilliseconds:0} ms");
        var e = task.Exception!.GetBaseException();
        return new(null, e switch
        {
            UntrustedPeerException => $"{what} is not read: {e.Message}",
            OperationCanceledException => $"{what} failed: no answer within {budget.TotalMilliseconds:0} ms",
            _ => $"{what} failed: {e.Message}",
        });
    }

    /// <param name="dataSource">
    /// The data source for the store's target, when the caller keeps its own (the decision service); else the
    /// module's, without type loading: a process that lives for one decision would pay for the server's type
    /// catalogue on connect (a round trip and a large result), and the view needs only built-in types.
    /// </param>
    /// <param name="within">
    /// The decision's deadline: the connect and each command get no more (whole seconds, at least one). A cancelled
    /// read stops its query (the server is asked to cancel it), but Npgsql does not stop a connect in its startup
    /// exchange on cancellation: this bound ends such an abandoned read soon after the deadline rather than after
    /// database.conf's connection-timeout-seconds.
    /// </param>
    public static StoreView ReadStore(ConfigRoot root, Func<DatabaseTarget, Npgsql.NpgsqlDataSource>? dataSource = null, TimeSpan? within = null,
                                      CancellationToken cancel = default)
    {
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = root.Path });
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(target.ConnectionString);
        if (within is { } bound)
        {
            var seconds = (int)Math.Max(1, Math.Ceiling(bound.TotalSeconds));
            builder.Timeout = Math.Min(builder.Timeout, seconds);
            builder.CommandTimeout = builder.CommandTimeout == 0 ? seconds : Math.Min(builder.CommandTimeout, seconds);
        }
        // One read, for a process that lives for one decision: a pooled connection would only stay open, idle (and where
        // many decisions run in one process, as in the tests, one per store until the server has none left).
        if (dataSource is null) builder.Pooling = false;
        target = target with { ConnectionString = builder.ConnectionString };
        var store = dataSource is null ? new ClusterStore(target, loadTypes: false) : new ClusterStore(target, dataSource(target));
        var (nodes, loads) = store.GetClusterView(ClusterStore.DefaultOfflineAfter, cancel);
        return new StoreView(nodes, loads);
    }

}

/// <summary>The store's nodes and, per node, its sessions.</summary>
public sealed record StoreView(IReadOnlyList<NodeInfo> Nodes, IReadOnlyList<NodeSessionLoad> Loads);

/// <summary>The far end of a connection is a socket someone we do not trust owns, or one we cannot tell the owner of.</summary>
public sealed class UntrustedPeerException(string message) : IOException(message);
