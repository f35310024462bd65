using Npgsql;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

/// <summary>
/// Completions from the cluster store for the argument completers. Completion must never fail or hang
/// the prompt: connections give up after two seconds, and any failure completes nothing.
/// </summary>
public static class StoreCompletion
{
    private const int MaxResults = 100;

    public static IReadOnlyList<Completion> NodeIds(StoreRequest request, string? prefix) =>
        Safely(request, store => store.GetNodes(request.OfflineAfter)
            .Where(n => n.Id.ToString(System.Globalization.CultureInfo.InvariantCulture).StartsWith(prefix ?? "", StringComparison.Ordinal))
            .Select(n => new Completion(n.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{n.Address} ({n.Status})")).ToList());

    public static IReadOnlyList<Completion> NodeAddresses(StoreRequest request, string? prefix) =>
        Safely(request, store => store.GetNodes(request.OfflineAfter)
            .Where(n => n.Address.StartsWith(prefix ?? "", StringComparison.OrdinalIgnoreCase))
            .Select(n => new Completion(n.Address, $"node {n.Id}, {n.Status}, {n.ActiveSessions} sessions")).ToList());

    public static IReadOnlyList<Completion> ActiveUsers(StoreRequest request, string? prefix) =>
        Safely(request, store => store.ActiveUserNames(prefix ?? "", MaxResults)
            .Select(u => new Completion(u.UserName, $"{u.Sessions} active session{(u.Sessions == 1 ? "" : "s")}")).ToList());

    private static IReadOnlyList<Completion> Safely(StoreRequest request, Func<ClusterStore, List<Completion>> query)
    {
        try
        {
            var target = DatabaseTarget.Resolve(request.Database);
            var quick = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Timeout = 2, CommandTimeout = 2 };
            return query(new ClusterStore(target with { ConnectionString = quick.ConnectionString })).Take(MaxResults).ToList();
        }
        catch (Exception e) when (e is WbException or ArgumentException)
        {
            return [];
        }
    }
}
