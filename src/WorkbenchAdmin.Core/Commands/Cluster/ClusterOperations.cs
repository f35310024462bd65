using WorkbenchAdmin.Core.Formats;
using System.Net.Http;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

/// <summary>Initialize-WbDatabase, and how every store operation opens its store.</summary>
public static class ClusterOperations
{
    /// <summary>The store for a request (see <see cref="StoreCache"/>), its warnings and target told to the host.</summary>
    public static ClusterStore Open(StoreRequest request, ICommandHost host) => StoreCache.Open(request, host.WriteWarning, host.WriteVerbose);

    /// <summary>Forgets every store and disposes its data source (module removal).</summary>
    public static void CloseAll() => StoreCache.CloseAll();

    public static void Initialize(StoreRequest request, ICommandHost host)
    {
        var store = Open(request, host); // connects only when used
        if (!host.ShouldProcess(store.Target.Description, $"Create or upgrade the WorkbenchAdmin schema to version {Schema.LatestVersion}")) return;
        var applied = store.Initialize(host.Cancellation);
        foreach (var m in applied) host.WriteVerbose($"Applied migration {m.Version}: {m.Description}");
        host.WriteObject(new DatabaseSchemaStatus(store.Target.Database, Schema.LatestVersion, applied.Select(m => $"{m.Version}: {m.Description}").ToList()));
    }
}
