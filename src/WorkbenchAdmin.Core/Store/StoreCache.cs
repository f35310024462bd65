using System.Collections.Concurrent;

namespace WorkbenchAdmin.Core.Store;

/// <summary>One store per connection string in this process, so concurrent placements share their batching.</summary>
public static class StoreCache
{
    private static readonly ConcurrentDictionary<string, ClusterStore> Stores = new(StringComparer.Ordinal);

    /// <summary>The store a request names.</summary>
    /// <param name="warn">Receives what is wrong with the target but not fatal.</param>
    /// <param name="verbose">Receives which database is used.</param>
    public static ClusterStore Open(StoreRequest request, Action<string> warn, Action<string> verbose)
    {
        var target = DatabaseTarget.Resolve(request.Database);
        foreach (var warning in target.Warnings) warn(warning);
        verbose($"Using {target.Description}");
        return Stores.GetOrAdd(target.ConnectionString, _ => new ClusterStore(target));
    }

    /// <summary>Forgets every store and disposes its data source (module removal).</summary>
    public static void CloseAll()
    {
        Stores.Clear();
        DataSources.DisposeAll();
    }
}
