using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>Differences between a cluster spec and what is found.</summary>
internal static class SpecChecks
{
    /// <summary>This class's checks: each id (defined in <see cref="CheckCatalog"/>) with its implementation below.</summary>
    public static IEnumerable<Check> All =>
    [
        Check.Spec("spec.nodes", Nodes),
        Check.Spec("spec.balancer", Balancer),
        Check.Spec("spec.protocol", Protocol),
        Check.Spec("spec.database", Database),
        Check.Spec("spec.shared-storage", SharedStorage),
    ];

    private const string Cluster = "cluster";

    public static IEnumerable<CheckResult> Nodes(CheckDefinition c, ClusterSpec spec, NodeContext n, ClusterAccess store)
    {
        if (spec.Nodes.Count == 0) { yield return c.Skip(Cluster, "the spec lists no nodes"); yield break; }
        if (store.Context is not { } x) { yield return store.Unchecked(c); yield break; }
        var expected = spec.Nodes.Select(e => NodeCandidate.Parse(e).NodesEntry(false)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var registered = x.Nodes.ToDictionary(r => r.Address, StringComparer.OrdinalIgnoreCase);
        var bad = 0;
        foreach (var e in expected.Order(StringComparer.Ordinal))
        {
            if (!registered.TryGetValue(e, out var node)) { bad++; yield return c.Fail(e, "not registered in the cluster store", "registered and Online", $"Register-WbNode on {e}, and start its heartbeat."); }
            else if (!node.Online) { bad++; yield return c.Fail(e, $"registered but {node.Status}", "Online", $"Start {e}'s heartbeat (Update-WbNodeStatus) and fix what its status says."); }
        }
        foreach (var extra in registered.Keys.Where(r => !expected.Contains(r)).Order(StringComparer.Ordinal))
        {
            bad++;
            yield return c.Warn(extra, "registered but not in the spec", "only the spec's nodes", $"Add {extra} to the spec, or Remove-WbNode it if it is gone.");
        }
        if (bad == 0) yield return c.Pass(Cluster, $"the {expected.Count} nodes of the spec are registered and Online");
    }

    public static IEnumerable<CheckResult> Balancer(CheckDefinition c, ClusterSpec spec, NodeContext n, ClusterAccess store)
    {
        if (spec.Balancer is null) { yield return c.Skip(n.Target, "the spec sets no balancer"); yield break; }
        var found = n.LoadBalancer.Method;
        yield return found == spec.Balancer
            ? c.Pass(n.Target, $"balancer={found}")
            : c.Fail(n.Target, $"balancer={found}{(n.LoadBalancer.MethodSource is null ? " (default)" : $" ({n.LoadBalancer.MethodSource})")}", $"balancer={spec.Balancer}",
                $"Set-WbBalancer -Method {spec.Balancer} on every node.");
    }

    public static IEnumerable<CheckResult> Protocol(CheckDefinition c, ClusterSpec spec, NodeContext n, ClusterAccess store)
    {
        if (spec.Protocol is null) { yield return c.Skip(n.Target, "the spec sets no protocol"); yield break; }
        var found = n.RServer.Protocol;
        yield return found == spec.Protocol
            ? c.Pass(n.Target, $"protocol {found}")
            : c.Fail(n.Target, $"protocol {found} (ssl-enabled={(n.RServer.SslEnabled ? 1 : 0)} in rserver.conf)", $"protocol {spec.Protocol}",
                $"Set ssl-enabled={(spec.Protocol == "https" ? 1 : 0)} in rserver.conf on every node.");
    }

    public static IEnumerable<CheckResult> Database(CheckDefinition c, ClusterSpec spec, NodeContext n, ClusterAccess store)
    {
        if (spec.Database is null) { yield return c.Skip(n.Target, "the spec sets no database"); yield break; }
        var db = n.Database;
        var differences = new List<string>();
        if (spec.Database.Host is { } h && !string.Equals(h, db.Host, StringComparison.OrdinalIgnoreCase)) differences.Add($"host {db.Host} (spec: {h})");
        if (spec.Database.Port is { } p && p != db.Port) differences.Add($"port {db.Port} (spec: {p})");
        if (spec.Database.Name is { } d && d != db.Database) differences.Add($"database {db.Database} (spec: {d})");
        yield return differences.Count == 0
            ? c.Pass(n.Target, $"{db.FilePath} points at {db.Host}:{db.Port}/{db.Database}")
            : c.Fail(n.Target, $"{db.FilePath}: {string.Join(", ", differences)}", $"{spec.Database.Host}:{spec.Database.Port}/{spec.Database.Name}",
                $"Correct host, port and database in {db.FilePath}.");
    }

    public static IEnumerable<CheckResult> SharedStorage(CheckDefinition c, ClusterSpec spec, NodeContext n, ClusterAccess store)
    {
        if (spec.SharedStoragePath is null) { yield return c.Skip(n.Target, "the spec sets no sharedStoragePath"); yield break; }
        var found = n.RServer.ServerSharedStoragePath ?? "(unset)";
        var bad = found != spec.SharedStoragePath;
        if (bad)
            yield return c.Fail(n.Target, $"server-shared-storage-path={found}", spec.SharedStoragePath, $"Set server-shared-storage-path={spec.SharedStoragePath} in rserver.conf on every node.");
        if (store.Context is not { } x)
        {
            // This node's path was compared above; the other nodes' are in the store.
            yield return store.Unchecked(c);
            yield break;
        }
        // A node that published no fingerprint could not be compared: that fails too (fail closed).
        foreach (var unchecked_ in x.Unprinted(c))
        {
            bad = true;
            yield return unchecked_;
        }
        foreach (var (node, print) in x.Printed)
            if (print.SharedStoragePath != spec.SharedStoragePath)
            {
                bad = true;
                yield return c.Fail(node.Address, $"server-shared-storage-path={print.SharedStoragePath ?? "(unset)"}", spec.SharedStoragePath, $"Set server-shared-storage-path={spec.SharedStoragePath} in rserver.conf on {node.Address}.");
            }
        if (!bad) yield return c.Pass(Cluster, $"server-shared-storage-path={found}");
    }
}
