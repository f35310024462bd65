using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Commands;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Proxies;

namespace WorkbenchAdmin.Core.Verification;

public sealed record VerifyRequest : StoreRequest
{
    /// <summary>Check ids to run (wildcards allowed); none means all.</summary>
    public IReadOnlyList<string>? Check { get; init; }
    public string? SpecPath { get; init; }
    public bool Quiet { get; init; }
    public double? ClockToleranceSec { get; init; }
    public string? HomeRoot { get; init; }
    public Machine? Machine { get; init; }
    /// <summary>The external load balancer: its configuration file, or its http(s) URL for the live checks; null skips those checks.</summary>
    public string? LoadBalancer { get; init; }
}

/// <summary>
/// Test-WbCluster: runs the per-node checks on the configuration root, then the cross-node checks on the
/// fingerprints in the cluster store, then the spec's. Fails closed: a check that cannot be made (it throws,
/// or the store cannot be reached) is a Fail saying why, never a Skip; Skip means only "does not apply".
/// </summary>
public static class ClusterVerifier
{
    public const double DefaultClockToleranceSec = 2;
    private const string Activity = "Test-WbCluster";

    private delegate IEnumerable<CheckResult> NodeCheck(CheckDefinition c, NodeContext n);
    private delegate IEnumerable<CheckResult> ClusterCheck(CheckDefinition c, ClusterContext x);
    private delegate IEnumerable<CheckResult> SpecCheck(CheckDefinition c, ClusterSpec spec, NodeContext n, ClusterAccess x);

    private static readonly Dictionary<string, NodeCheck> NodeChecksById = new()
    {
        ["config.lb-enabled"] = NodeChecks.LoadBalancingEnabled,
        ["config.lb-file"] = NodeChecks.LoadBalancerFile,
        ["config.launcher-address"] = NodeChecks.LauncherAddress,
        ["config.rserver-options"] = NodeChecks.RServerOptionsKnown,
        ["storage.shared-path"] = NodeChecks.SharedStoragePath,
        ["storage.shared-owner"] = NodeChecks.SharedOwner,
        ["storage.home-owner"] = NodeChecks.HomeOwner,
        ["database.provider"] = NodeChecks.DatabaseProvider,
        ["security.database-conf-mode"] = NodeChecks.DatabaseConfMode,
        ["security.key-mode"] = NodeChecks.SecureCookieKeyMode,
        ["security.plain-password"] = NodeChecks.PlainTextPassword,
        ["network.www-host-name"] = NodeChecks.WwwHostName,
        ["network.port-range"] = NodeChecks.PortRange,
        ["storage.nfs-options"] = GuideNodeChecks.NfsOptions,
        ["storage.home-directories"] = GuideNodeChecks.HomeDirectories,
        ["config.launcher-sessions"] = GuideNodeChecks.LauncherSessions,
        ["services.rstudio-server"] = GuideNodeChecks.RStudioServer,
        ["services.rstudio-launcher"] = GuideNodeChecks.RStudioLauncher,
    };

    private static readonly Dictionary<string, ClusterCheck> ClusterChecksById = new()
    {
        ["cluster.nodes-online"] = ClusterChecks.NodesOnline,
        ["cluster.config-identical"] = ClusterChecks.ConfigIdentical,
        ["cluster.key"] = ClusterChecks.SameKey,
        ["cluster.protocol"] = ClusterChecks.SameProtocol,
        ["cluster.version"] = ClusterChecks.SameVersion,
        ["cluster.clock"] = ClusterChecks.Clocks,
        ["cluster.users"] = ClusterChecks.SameUsers,
        ["cluster.shared-marker"] = ClusterChecks.SharedMarkers,
        ["network.reachable"] = ClusterChecks.Reachable,
        ["database.connections"] = ClusterChecks.Connections,
        ["cluster.session-spread"] = ClusterChecks.SessionSpread,
    };

    private static readonly Dictionary<string, SpecCheck> SpecChecksById = new()
    {
        ["spec.nodes"] = SpecChecks.Nodes,
        ["spec.balancer"] = SpecChecks.Balancer,
        ["spec.protocol"] = SpecChecks.Protocol,
        ["spec.database"] = SpecChecks.Database,
        ["spec.shared-storage"] = SpecChecks.SharedStorage,
    };

    public static void Run(VerifyRequest request, ICommandHost host)
    {
        var results = Verify(request, host);
        if (request.Quiet) host.WriteObject(results.All(r => r.Status != CheckStatus.Fail));
    }

    /// <summary>Runs the selected checks, writing each result (unless quiet) as it comes; returns them all.</summary>
    public static IReadOnlyList<CheckResult> Verify(VerifyRequest request, ICommandHost host)
    {
        var patterns = request.Check?.Select(p => new Wildcard(p)).ToList();
        var selected = CheckCatalog.All.Where(c => Wildcard.AnyMatch(patterns, c.Id)).ToList();
        if (patterns is { Count: > 0 } && selected.Count == 0)
            throw new WbException("UnknownCheck", WbErrorCategory.InvalidArgument,
                $"-Check {string.Join(", ", request.Check!)} matches no check; the checks are {string.Join(", ", CheckCatalog.All.Select(c => c.Id))}.", request.Check);
        var spec = request.SpecPath is null ? null : ClusterSpec.Load(request.SpecPath);
        if (spec is null && selected.Count > 0 && selected.All(c => c.Scope == CheckScope.Spec))
            throw new WbException("SpecRequired", WbErrorCategory.InvalidArgument,
                $"-Check {string.Join(", ", request.Check!)} selects only spec checks, which compare the cluster with a spec: pass -Spec <file>.", request.Check);
        if (spec is null) selected.RemoveAll(c => c.Scope == CheckScope.Spec);
        // The guide calls the external load balancer optional: its checks run when one is named.
        if (request.LoadBalancer is null && selected.Count > 0 && selected.All(c => c.Scope == CheckScope.LoadBalancer))
            throw new WbException("LoadBalancerRequired", WbErrorCategory.InvalidArgument,
                $"-Check {string.Join(", ", request.Check!)} selects only load balancer checks: pass -LoadBalancer <its configuration file or URL>.", request.Check);
        if (request.LoadBalancer is null) selected.RemoveAll(c => c.Scope == CheckScope.LoadBalancer);

        var machine = request.Machine ?? Machine.Local;
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var node = new NodeContext(root, machine, request.HomeRoot ?? spec?.HomeRoot);
        var results = new List<CheckResult>();
        void Emit(IEnumerable<CheckResult> batch)
        {
            foreach (var r in batch)
            {
                results.Add(r);
                if (!request.Quiet) host.WriteObject(r);
            }
        }

        var cluster = new ClusterAccess(null, null);
        if (selected.Any(c => c.Scope != CheckScope.Node))
        {
            host.WriteProgress(Activity, "Reading the cluster store", 0);
            try { cluster = new ClusterAccess(LoadCluster(request, host, node, spec), null); }
            catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
            {
                cluster = new ClusterAccess(null, $"the cluster store could not be read: {e.Message}");
            }
        }

        for (var i = 0; i < selected.Count; i++)
        {
            var check = selected[i];
            host.WriteProgress(Activity, $"{check.Id}: {check.Title}", 100 * i / selected.Count);
            Emit(RunOne(check, node, cluster, spec, request.LoadBalancer, host));
        }
        host.WriteProgress(Activity, "Done", -1);
        return results;
    }

    private static IEnumerable<CheckResult> RunOne(CheckDefinition check, NodeContext node, ClusterAccess cluster, ClusterSpec? spec, string? loadBalancer, ICommandHost host)
    {
        try
        {
            return check.Scope switch
            {
                CheckScope.LoadBalancer => RunLoadBalancer(check, node, cluster, loadBalancer!, host),
                CheckScope.Node => NodeChecksById[check.Id](check, node).ToList(),
                CheckScope.Cluster when cluster.Context is null => [cluster.Unchecked(check)],
                CheckScope.Cluster => ClusterChecksById[check.Id](check, cluster.Context).ToList(),
                _ => SpecChecksById[check.Id](check, spec!, node, cluster).ToList(),
            };
        }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
        {
            // A file that cannot be read or parsed: the check was not made, and the message says where.
            return [check.Unchecked(check.Scope == CheckScope.Node ? node.Target : "cluster", e.Message, "Correct what the message names, then run the check again.")];
        }
    }

    /// <summary>A load balancer check against the registered nodes: from its file, or live through its URL.</summary>
    private static List<CheckResult> RunLoadBalancer(CheckDefinition check, NodeContext node, ClusterAccess cluster, string loadBalancer, ICommandHost host)
    {
        var nodes = cluster.Context is { } x ? ClusterNodes.Of(x.Nodes.Select(n => n.Address)) : ClusterNodes.Unavailable(cluster.Unavailable ?? "the cluster store was not read");
        var live = Uri.TryCreate(loadBalancer, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
        var options = new ProbeOptions { Cancellation = host.Cancellation };
        return Commands.Proxies.LoadBalancerOperations.Run([check], live ? null : loadBalancer, null, live ? loadBalancer : null, nodes, node.Machine, options).ToList();
    }

    /// <summary>A fingerprint as the store holds it; one that is not ours to read makes the store unreadable, never a silent gap.</summary>
    private static NodeFingerprint ReadFingerprint(int nodeId, string json, Store.ClusterStore store)
    {
        try { return NodeFingerprint.FromJson(json); }
        catch (System.Text.Json.JsonException e)
        {
            throw new WbException("FingerprintUnreadable", WbErrorCategory.InvalidData,
                $"the fingerprint node {nodeId} published in {store.Target.Description} is not valid ({e.Message}); its next heartbeat (Update-WbNodeStatus) replaces it.", nodeId, e);
        }
    }

    private static ClusterContext LoadCluster(VerifyRequest request, ICommandHost host, NodeContext node, ClusterSpec? spec)
    {
        var store = ClusterOperations.Open(request, host);
        var nodes = store.GetNodes(request.OfflineAfter);
        var published = store.GetFingerprints();
        var prints = published.ToDictionary(kv => kv.Key, kv => ReadFingerprint(kv.Key, kv.Value.Json, store));
        var tolerance = request.ClockToleranceSec ?? spec?.ClockToleranceSec ?? DefaultClockToleranceSec;
        return new ClusterContext
        {
            Nodes = nodes,
            Fingerprints = prints,
            FingerprintTakenAt = published.ToDictionary(kv => kv.Key, kv => kv.Value.TakenAt),
            ConnectionLimits = store.GetConnectionLimits(),
            Database = node.Database,
            LauncherPort = LauncherConfig.Load(node.Root).Port,
            ClockTolerance = TimeSpan.FromSeconds(tolerance),
            Machine = node.Machine,
            Cancellation = host.Cancellation,
        };
    }
}
