using WorkbenchAdmin.Core.Formats;
using System.Collections.Concurrent;
using System.Net.Http;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

/// <summary>How every store cmdlet reaches the database: a configuration root, or overrides.</summary>
/// <remarks>Settable, so the cmdlets' shared base can fill these on any derived request.</remarks>
public record StoreRequest
{
    public string? ConfigRoot { get; set; }
    public string? ConnectionString { get; set; }
    public string? CredentialUserName { get; set; }
    public SecretValue? CredentialPassword { get; set; }
    /// <summary>Seconds without a heartbeat after which a node counts as Offline.</summary>
    public double? OfflineAfterSec { get; set; }

    /// <summary>Printing shows the connection string without its password (derived requests print through this too).</summary>
    protected virtual bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"ConfigRoot = {ConfigRoot}, ConnectionString = {DatabaseTarget.Redact(ConnectionString)}, CredentialUserName = {CredentialUserName}, ");
        builder.Append($"CredentialPassword = {CredentialPassword}, OfflineAfterSec = {OfflineAfterSec}");
        return true;
    }

    internal DatabaseRequest Database => new()
    {
        ConfigRoot = ConfigRoot,
        ConnectionString = ConnectionString,
        UserName = CredentialUserName,
        Password = CredentialPassword,
    };

    internal TimeSpan OfflineAfter
    {
        get
        {
            if (OfflineAfterSec is not { } s) return ClusterStore.DefaultOfflineAfter;
            if (!double.IsFinite(s) || s <= 0)
                throw new WbException("InvalidOfflineAfter", WbErrorCategory.InvalidArgument, $"-OfflineAfterSec {s} must be more than 0.", s);
            return TimeSpan.FromSeconds(s);
        }
    }
}

/// <summary>The cmdlets over the cluster store. Each resolves its target once, then makes one store call.</summary>
public static class ClusterOperations
{
    private static readonly ConcurrentDictionary<string, ClusterStore> Stores = new(StringComparer.Ordinal);

    /// <summary>The store for a request: one per connection string, so concurrent placements share their batching.</summary>
    public static ClusterStore Open(StoreRequest request, ICommandHost host)
    {
        var target = DatabaseTarget.Resolve(request.Database);
        foreach (var warning in target.Warnings) host.WriteWarning(warning);
        host.WriteVerbose($"Using {target.Description}");
        return Stores.GetOrAdd(target.ConnectionString, _ => new ClusterStore(target));
    }

    /// <summary>Forgets every store and disposes its data source (module removal).</summary>
    public static void CloseAll()
    {
        Stores.Clear();
        DataSources.DisposeAll();
    }

    public static void Initialize(StoreRequest request, ICommandHost host)
    {
        var store = Open(request, host); // connects only when used
        if (!host.ShouldProcess(store.Target.Description, $"Create or upgrade the WorkbenchAdmin schema to version {Schema.LatestVersion}")) return;
        var applied = store.Initialize(host.Cancellation);
        foreach (var m in applied) host.WriteVerbose($"Applied migration {m.Version}: {m.Description}");
        host.WriteObject(new DatabaseSchemaStatus(store.Target.Database, Schema.LatestVersion, applied.Select(m => $"{m.Version}: {m.Description}").ToList()));
    }
}
