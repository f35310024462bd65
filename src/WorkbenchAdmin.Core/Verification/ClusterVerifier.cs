using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Store;

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

/// <summary>What a verification writes as it goes: the command's pipeline (Commands adapts its host), or a test's recorder.</summary>
public interface IVerificationHost
{
    void WriteObject(object item);
    void WriteWarning(string message);
    void WriteVerbose(string message);
    /// <summary>Progress of a long operation; a percentage from 0 to 100, or -1 when finished.</summary>
    void WriteProgress(string activity, string status, int percent);
    /// <summary>Signalled when the user stops the command (Ctrl+C): every wait watches it.</summary>
    CancellationToken Cancellation { get; }
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

    public static void Run(VerifyRequest request, IVerificationHost host) =>
        CheckRunner.WriteVerdict(Verify(request, host), request.Quiet, host.WriteObject);

    /// <summary>Runs the selected checks, writing each result (unless quiet) as it comes; returns them all.</summary>
    public static IReadOnlyList<CheckResult> Verify(VerifyRequest request, IVerificationHost host)
    {
        var selected = CheckRunner.Select(CheckCatalog.All, request.Check);
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

        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var node = new NodeContext(root, request.Machine ?? Machine.Local, request.HomeRoot ?? spec?.HomeRoot, host.Cancellation);
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
        var context = new CheckContext { Node = node, Cluster = cluster, Spec = spec, LoadBalancer = request.LoadBalancer, Cancellation = host.Cancellation };
        return CheckRunner.Report(Results(selected, context, host), request.Quiet, host.WriteObject);
    }

    private static IEnumerable<CheckResult> Results(List<CheckDefinition> selected, CheckContext context, IVerificationHost host)
    {
        for (var i = 0; i < selected.Count; i++)
        {
            var check = selected[i];
            host.WriteProgress(Activity, $"{check.Id}: {check.Title}", 100 * i / selected.Count);
            var implementation = CheckRegistry.Of(check);
            foreach (var r in CheckRunner.FailClosed(check, check.Scope == CheckScope.Node ? context.Node.Target : "cluster",
                         "Correct what the message names, then run the check again.", () => implementation.Run(context)))
                yield return r;
        }
        host.WriteProgress(Activity, "Done", -1);
    }

    /// <summary>A fingerprint as the store holds it; one that is not ours to read makes the store unreadable, never a silent gap.</summary>
    private static NodeFingerprint ReadFingerprint(int nodeId, string json, ClusterStore store)
    {
        try { return NodeFingerprint.FromJson(json); }
        catch (System.Text.Json.JsonException e)
        {
            throw new WbException("FingerprintUnreadable", WbErrorCategory.InvalidData,
                $"the fingerprint node {nodeId} published in {store.Target.Description} is not valid ({e.Message}); its next heartbeat (Update-WbNodeStatus) replaces it.", nodeId, e);
        }
    }

    private static ClusterContext LoadCluster(VerifyRequest request, IVerificationHost host, NodeContext node, ClusterSpec? spec)
    {
        var store = StoreCache.Open(request, host.WriteWarning, host.WriteVerbose);
        var nodes = store.GetNodes(request.OfflineAfter, host.Cancellation);
        var published = store.GetFingerprints(host.Cancellation);
        var prints = published.ToDictionary(kv => kv.Key, kv => ReadFingerprint(kv.Key, kv.Value.Json, store));
        var tolerance = request.ClockToleranceSec ?? spec?.ClockToleranceSec ?? DefaultClockToleranceSec;
        return new ClusterContext
        {
            Nodes = nodes,
            Fingerprints = prints,
            FingerprintTakenAt = published.ToDictionary(kv => kv.Key, kv => kv.Value.TakenAt),
            ConnectionLimits = store.GetConnectionLimits(host.Cancellation),
            Database = node.Database,
            LauncherPort = LauncherConfig.Load(node.Root).Port,
            ClockTolerance = TimeSpan.FromSeconds(tolerance),
            Machine = node.Machine,
            Cancellation = host.Cancellation,
        };
    }
}
