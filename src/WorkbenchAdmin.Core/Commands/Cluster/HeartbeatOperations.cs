using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

public sealed record NodeRequest : StoreRequest
{
    public bool PassThru { get; init; }
    public bool Force { get; init; }
    /// <summary>Load averages, cores, clock and version to report instead of this machine's (tests, or a node reporting for itself elsewhere).</summary>
    public NodeReport? Report { get; init; }
    public Platform.Machine? Machine { get; init; }
    /// <summary>Update-WbNodeStatus -EverySec: beat at this interval until stopped, instead of once.</summary>
    public double? EverySec { get; init; }
}

/// <summary>Register-WbNode and Update-WbNodeStatus: a node reports itself (load, cores, clock, whether rserver answers, its configuration's fingerprint).</summary>
public static class HeartbeatOperations
{
    public static void RegisterNode(NodeRequest request, ICommandHost host)
    {
        var identity = NodeIdentity.FromConfig(Configuration.ConfigRoot.Resolve(request.ConfigRoot), host.WriteWarning, request.Machine, host.Cancellation);
        var store = ClusterOperations.Open(request, host);
        if (!host.ShouldProcess(identity.Address, $"Register node in {store.Target.Description}")) return;
        var report = request.Report ?? NodeReport.FromMachine();
        var node = store.ReportNode(identity, report, mustExist: false, request.OfflineAfter, Fingerprint(request, identity, report), host.Cancellation);
        if (node.Status != NodeStatus.Online)
            host.WriteWarning($"Node {node.Address} joined as '{node.Status}': it will not receive sessions. " +
                (node.Status == NodeStatus.InvalidKey ? "Copy the cluster's secure-cookie-key to it, or Reset-WbCluster." : "Use the cluster's protocol (ssl-enabled) on every node."));
        host.WriteObject(node);
    }

    public static void UpdateNodeStatus(NodeRequest request, ICommandHost host)
    {
        if (request.EverySec is { } every)
        {
            RunHeartbeat(request, Interval(every), host);
            return;
        }
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var identity = NodeIdentity.FromConfig(root, host.WriteVerbose, request.Machine, host.Cancellation);
        if (!host.ShouldProcess(identity.Address, "Report heartbeat (load, cores, clock, whether rserver answers)")) return;
        Beat(request, root, identity, host);
    }

    private static TimeSpan Interval(double seconds) => double.IsFinite(seconds) && seconds is >= 0.1 and <= 86_400
        ? TimeSpan.FromSeconds(seconds)
        : throw new WbException("InvalidHeartbeatInterval", WbErrorCategory.InvalidArgument, $"-EverySec {seconds} must be from 0.1 to 86400 seconds.", seconds);

    /// <summary>
    /// The heartbeat as a long-lived process (a systemd service rather than a pwsh started by a timer every few
    /// seconds): one beat every <paramref name="every"/>, on a fixed schedule (a slow beat does not shift the
    /// next ones; missed ones are skipped, not bunched), until the command is stopped. A beat that fails (the
    /// database restarting, a configuration file being replaced) is reported as a warning and the next one is
    /// tried on time: a heartbeat that gave up would let a healthy node age out to Offline.
    /// </summary>
    private static void RunHeartbeat(NodeRequest request, TimeSpan every, ICommandHost host)
    {
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var first = NodeIdentity.FromConfig(root, host.WriteVerbose, request.Machine, host.Cancellation);
        if (!host.ShouldProcess(first.Address, $"Report heartbeat every {every.TotalSeconds:0.###} s until stopped")) return;
        var cancel = host.Cancellation;
        var interval = (long)(every.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        var due = System.Diagnostics.Stopwatch.GetTimestamp();
        var failures = 0;
        while (true)
        {
            try
            {
                // The identity is read again each beat: a changed key or address is reported, as a restart would.
                Beat(request, root, NodeIdentity.FromConfig(root, host.WriteVerbose, request.Machine, host.Cancellation), host);
                if (failures > 0) host.WriteWarning($"The heartbeat is reported again after {failures} failed {(failures == 1 ? "beat" : "beats")}.");
                failures = 0;
            }
            catch (Exception e) when (!cancel.IsCancellationRequested && e is WbException or IOException or UnauthorizedAccessException)
            {
                failures++;
                host.WriteWarning($"Heartbeat {failures} in a row failed ({(e as WbException)?.ErrorId ?? e.GetType().Name}): {e.Message} Trying again in {every.TotalSeconds:0.###} s.");
            }
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            due += interval;
            if (due < now) due = now + interval - (now - due) % interval;
            var wait = TimeSpan.FromSeconds((double)(due - now) / System.Diagnostics.Stopwatch.Frequency);
            if (cancel.WaitHandle.WaitOne(wait)) cancel.ThrowIfCancellationRequested();
        }
    }

    private static void Beat(NodeRequest request, ConfigRoot root, NodeIdentity identity, ICommandHost host)
    {
        var store = ClusterOperations.Open(request, host);
        var report = (request.Report ?? NodeReport.FromMachine()) with { Serving = RserverAnswers(root, identity, request.Machine, host) };
        var node = store.ReportNode(identity, report, mustExist: true, request.OfflineAfter, Fingerprint(request, identity, report), host.Cancellation);
        if (request.PassThru) host.WriteObject(node);
    }

    private static readonly TimeSpan RserverProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether rserver accepts a connection on its HTTP port (www-address and www-port of rserver.conf; a wildcard
    /// address is reached on loopback): a heartbeat must not keep a stopped or crashed node Online.
    /// </summary>
    private static bool RserverAnswers(ConfigRoot root, NodeIdentity identity, Platform.Machine? machine, ICommandHost host)
    {
        var rserver = RServerConfig.Load(root);
        var address = rserver.WwwAddress.Trim('[', ']') switch
        {
            "" or "0.0.0.0" => "127.0.0.1",
            "::" => "::1",
            var a => a,
        };
        if ((machine ?? Platform.Machine.Local).CanConnect(address, rserver.WwwPort, RserverProbeTimeout, host.Cancellation)) return true;
        host.WriteWarning($"rserver is not answering on {NodeCandidate.FormatAddress(address, rserver.WwwPort)} (www-address and www-port in {root.PathOf(ConfigFiles.RServer)}): " +
                          $"{identity.Address} is reported Offline and gets no sessions until it answers.");
        return false;
    }

    /// <summary>The configuration fingerprint a heartbeat publishes for the cross-node checks, and when it was taken.</summary>
    private static FingerprintReport Fingerprint(NodeRequest request, NodeIdentity identity, NodeReport report)
    {
        var taken = System.Diagnostics.Stopwatch.GetTimestamp();
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        try
        {
            return new(Verification.NodeFingerprint.Compute(root, identity.Address, report.Version, request.Machine).ToJson(), taken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Never a stale or partial fingerprint: the heartbeat fails, naming what could not be read.
            throw new WbException("FingerprintFailed", WbErrorCategory.ReadError,
                $"Cannot read the configuration of {identity.Address} to publish its fingerprint: {e.Message}", root.Path, e);
        }
    }
}
