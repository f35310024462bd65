using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>What the cross-node checks compare: the store's nodes and the fingerprints they published.</summary>
public sealed class ClusterContext
{
    public required IReadOnlyList<NodeInfo> Nodes { get; init; }
    public required IReadOnlyDictionary<int, NodeFingerprint> Fingerprints { get; init; }
    /// <summary>When each node took its fingerprint (and read the others' markers), in the store's clock.</summary>
    public required IReadOnlyDictionary<int, DateTimeOffset> FingerprintTakenAt { get; init; }
    public required (int Max, int Reserved) ConnectionLimits { get; init; }
    /// <summary>This node's database.conf, whose pool-size every node shares.</summary>
    public required DatabaseConfig Database { get; init; }
    public required int LauncherPort { get; init; }
    public required TimeSpan ClockTolerance { get; init; }
    public required Machine Machine { get; init; }
    /// <summary>Signalled when the user stops the command: the connection probes watch it.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Nodes that take part in the cluster (not rejected for their key or protocol) and published a fingerprint.</summary>
    public IEnumerable<(NodeInfo Node, NodeFingerprint Print)> Printed =>
        Nodes.Where(n => Fingerprints.ContainsKey(n.Id)).Select(n => (n, Fingerprints[n.Id]));

    /// <summary>A comparison cannot be made for a registered node that published no fingerprint: a Fail for each, saying so.</summary>
    internal IEnumerable<CheckResult> Unprinted(CheckDefinition c) =>
        Nodes.Where(n => !Fingerprints.ContainsKey(n.Id)).Select(n => c.Unchecked(n.Address, "this node has published no configuration fingerprint",
            $"Run Update-WbNodeStatus on {n.Address} (its heartbeat publishes the fingerprint), then check again."));
}

/// <summary>The cluster store as the checks get it: its contents, or why it could not be read.</summary>
public sealed record ClusterAccess(ClusterContext? Context, string? Unavailable)
{
    /// <summary>The result of a check that needs the store when it could not be read.</summary>
    public CheckResult Unchecked(CheckDefinition c, string target = "cluster") =>
        c.Unchecked(target, Unavailable ?? "the cluster store was not read",
            "Make the cluster store reachable from this node (database.conf, or -ConnectionString and -Credential), then run Test-WbCluster again.");
}

/// <summary>Checks that compare the nodes of a cluster, through the store.</summary>
internal static class ClusterChecks
{
    /// <summary>This class's checks: each id (defined in <see cref="CheckCatalog"/>) with its implementation below.</summary>
    public static IEnumerable<Check> All =>
    [
        Check.Cluster("cluster.nodes-online", NodesOnline),
        Check.Cluster("cluster.config-identical", ConfigIdentical),
        Check.Cluster("cluster.key", SameKey),
        Check.Cluster("cluster.protocol", SameProtocol),
        Check.Cluster("cluster.version", SameVersion),
        Check.Cluster("cluster.clock", Clocks),
        Check.Cluster("cluster.users", SameUsers),
        Check.Cluster("cluster.shared-marker", SharedMarkers),
        Check.Cluster("network.reachable", Reachable),
        Check.Cluster("database.connections", Connections),
        Check.Cluster("cluster.session-spread", SessionSpread),
    ];

    private const string Cluster = "cluster";

    public static IEnumerable<CheckResult> NodesOnline(CheckDefinition c, ClusterContext x)
    {
        var online = x.Nodes.Where(n => n.Online).ToList();
        var others = x.Nodes.Where(n => !n.Online).Select(n => $"{n.Address} ({n.Status})").ToList();
        var found = $"{online.Count} of {x.Nodes.Count} nodes online{(others.Count > 0 ? "; not online: " + string.Join(", ", others) : "")}";
        yield return online.Count >= 2
            ? c.Pass(Cluster, found)
            : c.Fail(Cluster, found, "at least two online nodes",
                x.Nodes.Count < 2 ? "Register every node (Register-WbNode) and start their heartbeats." : "Start the offline nodes' heartbeats (Update-WbNodeStatus) or fix what keeps them out.");
    }

    public static IEnumerable<CheckResult> ConfigIdentical(CheckDefinition c, ClusterContext x)
    {
        var printed = x.Printed.ToList();
        var unprinted = x.Unprinted(c).ToList();
        foreach (var r in unprinted) yield return r;
        if (printed.Count < 2)
        {
            if (unprinted.Count == 0) yield return c.Skip(Cluster, "fewer than two nodes are registered: nothing to compare");
            yield break;
        }
        var files = printed.SelectMany(p => p.Print.ConfigHashes.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var differing = 0;
        foreach (var file in files)
        {
            var groups = printed.GroupBy(p => p.Print.ConfigHashes.GetValueOrDefault(file) ?? "(missing)").ToList();
            if (groups.Count == 1) continue;
            differing++;
            var majority = groups.OrderByDescending(g => g.Count()).First();
            foreach (var odd in groups.Where(g => g != majority).SelectMany(g => g))
            {
                var what = odd.Print.ConfigHashes.ContainsKey(file) ? $"/etc/rstudio/{file} differs from {string.Join(", ", majority.Select(m => m.Node.Address))}{WhereItDiffers(file, odd.Print, majority.First().Print)}"
                                                                     : $"/etc/rstudio/{file} is missing (present on {string.Join(", ", majority.Select(m => m.Node.Address))})";
                yield return c.Fail(odd.Node.Address, what, "identical on every node apart from www-host-name, www-address and www-port",
                    $"Copy /etc/rstudio/{file} from {majority.First().Node.Address} to {odd.Node.Address}, keep its address keys, and restart rstudio-server.");
            }
        }
        if (differing == 0 && unprinted.Count == 0) yield return c.Pass(Cluster, $"{files.Count} files identical on {printed.Count} nodes (address keys aside)");
    }

    /// <summary>
    /// The sections and keys where a node's file differs from the reference's (never their values: they may be secrets);
    /// empty when either fingerprint predates per-key entries or the file is compared byte for byte.
    /// </summary>
    internal static string WhereItDiffers(string file, NodeFingerprint odd, NodeFingerprint reference)
    {
        if (odd.ConfigEntries?.GetValueOrDefault(file) is not { } mine || reference.ConfigEntries?.GetValueOrDefault(file) is not { } theirs) return "";
        var places = mine.Keys.Union(theirs.Keys).Order(StringComparer.Ordinal)
            .Select(place => (place, Mine: mine.GetValueOrDefault(place), Theirs: theirs.GetValueOrDefault(place)))
            .Where(p => p.Mine != p.Theirs)
            .Select(p => p.Mine is null ? $"{p.place} (missing here)" : p.Theirs is null ? $"{p.place} (only here)" : p.place)
            .ToList();
        const int Shown = 6;
        return places.Count == 0 ? "" : $": {string.Join(", ", places.Take(Shown))}{(places.Count > Shown ? $" and {places.Count - Shown} more" : "")}";
    }

    public static IEnumerable<CheckResult> SameKey(CheckDefinition c, ClusterContext x) =>
        Same(c, x, p => p.Print.KeyHash, "secure-cookie-key", "the secure-cookie-key differs from the other nodes' (sign-in fails: 'Invalid secure cookie key')",
            n => $"Copy the cluster's secure-cookie-key to {n} (mode 600), restart rstudio-server, and Reset-WbCluster if the cluster record holds an old key.",
            extraFailures: x.Nodes.Where(n => n.Status == NodeStatus.InvalidKey));

    public static IEnumerable<CheckResult> SameProtocol(CheckDefinition c, ClusterContext x) =>
        Same(c, x, p => p.Print.Protocol, "protocol", "uses a different protocol from the other nodes",
            n => $"Use the same ssl-enabled setting in rserver.conf on {n} as on the other nodes.",
            extraFailures: x.Nodes.Where(n => n.Status == NodeStatus.ProtocolMismatch), show: true);

    public static IEnumerable<CheckResult> SameVersion(CheckDefinition c, ClusterContext x)
    {
        if (x.Printed.All(p => p.Print.Version is null))
            return [.. x.Unprinted(c), c.Skip(Cluster, "no node reported its Workbench version (/usr/lib/rstudio-server/VERSION)")];
        return Same(c, x, p => p.Print.Version ?? "(unknown)", "Workbench version", "runs a different Workbench version",
            n => $"Install the cluster's Workbench version on {n}.", show: true);
    }

    public static IEnumerable<CheckResult> SameUsers(CheckDefinition c, ClusterContext x) =>
        Same(c, x, p => p.Print.UsersDigest, "users", "sees different users or UIDs/GIDs from the other nodes",
            n => $"Give every user the same UID and GID on {n} as on the other nodes (SSSD, or useradd with fixed ids).");

    /// <summary>One value per node must agree: the majority value is the reference, each other node fails.</summary>
    private static IEnumerable<CheckResult> Same(CheckDefinition c, ClusterContext x, Func<(NodeInfo Node, NodeFingerprint Print), string?> value,
        string what, string problem, Func<string, string> fix, IEnumerable<NodeInfo>? extraFailures = null, bool show = false)
    {
        var printed = x.Printed.Where(p => value(p) is not null).ToList();
        var flagged = new HashSet<int>();
        var results = x.Unprinted(c).ToList();
        // A node whose fingerprint lacks the value cannot be compared either: never left out silently.
        foreach (var (node, _) in x.Printed.Where(p => value(p) is null))
            results.Add(c.Unchecked(node.Address, $"its fingerprint records no {what}", $"Check {what} on {node.Address}, run Update-WbNodeStatus there, then check again."));
        if (printed.Count >= 1)
        {
            var groups = printed.GroupBy(value).OrderByDescending(g => g.Count()).ToList();
            var reference = groups[0];
            foreach (var odd in groups.Skip(1).SelectMany(g => g))
            {
                flagged.Add(odd.Node.Id);
                results.Add(c.Fail(odd.Node.Address, show ? $"{what} {value(odd)}: {problem}" : problem,
                    show ? $"{what} {reference.Key}, as on {string.Join(", ", reference.Select(r => r.Node.Address))}" : $"the same {what} as {string.Join(", ", reference.Select(r => r.Node.Address))}",
                    fix(odd.Node.Address)));
            }
        }
        foreach (var node in extraFailures ?? [])
            if (flagged.Add(node.Id))
                results.Add(c.Fail(node.Address, $"the node is recorded as '{node.Status}'", $"the cluster's {what}", fix(node.Address)));
        if (results.Count == 0)
            results.Add(printed.Count == 0 ? c.Skip(Cluster, "no node is registered: nothing to compare") : c.Pass(Cluster, $"the same {what} on {printed.Count} nodes"));
        return results;
    }

    public static IEnumerable<CheckResult> Clocks(CheckDefinition c, ClusterContext x)
    {
        var withClock = x.Nodes.Where(n => n.ClockSkew is not null).ToList();
        if (withClock.Count == 0)
        {
            yield return c.Skip(Cluster, "no node reported its clock");
            yield break;
        }
        var skewed = withClock.Where(n => n.ClockSkew!.Value.Duration() > x.ClockTolerance).ToList();
        foreach (var n in skewed)
        {
            var s = n.ClockSkew!.Value.TotalSeconds;
            yield return c.Fail(n.Address, $"its clock was {Math.Abs(s):0.#} s {(s > 0 ? "ahead of" : "behind")} the database's at its last heartbeat",
                $"within {x.ClockTolerance.TotalSeconds:0.#} s", $"Synchronise {n.Address}'s clock (chrony or systemd-timesyncd) with the other nodes.");
        }
        if (skewed.Count == 0)
            yield return c.Pass(Cluster, $"{withClock.Count} clocks within {x.ClockTolerance.TotalSeconds:0.#} s (largest skew {withClock.Max(n => n.ClockSkew!.Value.Duration().TotalSeconds):0.##} s)");
    }

    public static IEnumerable<CheckResult> SharedMarkers(CheckDefinition c, ClusterContext x)
    {
        var printed = x.Printed.ToList();
        var flagged = false;
        foreach (var r in x.Unprinted(c))
        {
            flagged = true;
            yield return r;
        }
        if (printed.Count < 2)
        {
            if (!flagged) yield return c.Skip(Cluster, "fewer than two nodes are registered: nothing to compare");
            yield break;
        }
        foreach (var (node, print) in printed.Where(p => p.Print.Marker is null))
        {
            flagged = true;
            yield return c.Fail(node.Address, print.MarkerError ?? "it wrote no marker to shared storage", "a marker in server-shared-storage-path",
                print.MarkerFix ?? $"Mount the shared storage at server-shared-storage-path on {node.Address} and let it be written there.");
        }
        // Every (writer, reader) pair where the reader does not see the writer's marker.
        var unread = (from w in printed
                      where w.Print.Marker is not null
                      from r in printed
                      where r.Print.Marker is not null // a node without storage was reported above
                            && r.Node.Id != w.Node.Id && r.Print.MarkersSeen.GetValueOrDefault(w.Node.Address) != w.Print.Marker
                      select (Writer: w.Node, Reader: r.Node)).ToList();
        // A reader that last looked before the writer registered could not have seen its marker: not a failure
        // (right after nodes join), and the reader's next heartbeat tells.
        bool NotYet((NodeInfo Writer, NodeInfo Reader) p) => x.FingerprintTakenAt.GetValueOrDefault(p.Reader.Id) < p.Writer.RegisteredAt;
        var notYet = unread.Where(NotYet).ToList();
        var broken = unread.Where(p => !NotYet(p)).ToList();
        // Blame the node involved in the most broken pairs (the one not sharing the storage), then the next.
        while (broken.Count > 0)
        {
            var culprit = broken.SelectMany(b => new[] { b.Writer, b.Reader }).GroupBy(n => n.Id)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().First();
            var mine = broken.Where(b => b.Writer.Id == culprit.Id || b.Reader.Id == culprit.Id).ToList();
            broken.RemoveAll(mine.Contains);
            var cannotRead = mine.Where(b => b.Reader.Id == culprit.Id).Select(b => b.Writer.Address).ToList();
            var notReadBy = mine.Where(b => b.Writer.Id == culprit.Id).Select(b => b.Reader.Address).ToList();
            var parts = new List<string>();
            if (cannotRead.Count > 0) parts.Add($"it cannot read the markers of {string.Join(", ", cannotRead)}");
            if (notReadBy.Count > 0) parts.Add($"{string.Join(", ", notReadBy)} cannot read its marker");
            var path = x.Fingerprints.GetValueOrDefault(culprit.Id)?.SharedStoragePath;
            flagged = true;
            yield return c.Fail(culprit.Address, $"{string.Join("; ", parts)} in {path}: it does not share storage with them",
                "every node reads every other node's marker", $"Mount the cluster's shared storage at {path} on {culprit.Address}, as on the other nodes.");
        }
        foreach (var reader in notYet.GroupBy(p => p.Reader.Id))
        {
            var node = reader.First().Reader;
            var writers = reader.Select(p => p.Writer.Address).ToList();
            flagged = true;
            yield return c.Warn(node.Address,
                $"it has not read the marker of {string.Join(", ", writers)} yet: its last heartbeat looked at shared storage at {x.FingerprintTakenAt[node.Id]:u}, before {(writers.Count == 1 ? "that node" : "those nodes")} registered",
                "every node reads every other node's marker", $"Wait for {node.Address}'s next heartbeat (or run Update-WbNodeStatus on it), then check again.");
        }
        if (!flagged) yield return c.Pass(Cluster, $"{printed.Count} nodes read each other's markers in shared storage");
    }

    public static IEnumerable<CheckResult> Reachable(CheckDefinition c, ClusterContext x)
    {
        var timeout = TimeSpan.FromSeconds(2);
        foreach (var n in x.Nodes)
        {
            var closed = new[] { (Port: n.Port, Name: n.Protocol == "https" ? "HTTPS" : "HTTP"), (Port: x.LauncherPort, Name: "launcher") }
                .Where(p => !x.Machine.CanConnect(n.Host, p.Port, timeout, x.Cancellation)).ToList();
            yield return closed.Count == 0
                ? c.Pass(n.Address, $"ports {n.Port} and {x.LauncherPort} accept connections from this host")
                : c.Fail(n.Address, $"{string.Join(" and ", closed.Select(p => $"{p.Name} port {p.Port}"))} of {n.Host} did not accept a connection within {timeout.TotalSeconds:0} s",
                    "open between every pair of nodes", $"Open TCP {string.Join(", ", closed.Select(p => p.Port))} on {n.Host} to the other nodes and check the service is running.");
        }
    }

    public static IEnumerable<CheckResult> Connections(CheckDefinition c, ClusterContext x)
    {
        var perNode = x.Nodes.Select(n => x.Database.EffectivePoolSize(n.Cores ?? 4)).ToList();
        var needed = perNode.Sum();
        var available = x.ConnectionLimits.Max - x.ConnectionLimits.Reserved;
        var found = $"pool-size {(x.Database.PoolSize == 0 ? "auto" : x.Database.PoolSize.ToString())} × {x.Nodes.Count} nodes = {needed} connections; max_connections {x.ConnectionLimits.Max} - {x.ConnectionLimits.Reserved} reserved = {available}";
        yield return needed <= available
            ? c.Pass(Cluster, found)
            : c.Fail(Cluster, found, $"at most {available}", $"Raise max_connections in postgresql.conf to at least {needed + x.ConnectionLimits.Reserved}, or lower pool-size in database.conf.");
    }

    public static IEnumerable<CheckResult> SessionSpread(CheckDefinition c, ClusterContext x)
    {
        var online = x.Nodes.Where(n => n.Online).ToList();
        var total = online.Sum(n => n.ActiveSessions);
        if (online.Count < 2 || total < 2)
        {
            yield return c.Skip(Cluster, $"{total} active sessions on {online.Count} online nodes: start four sessions (New-WbSession, or from the home page) to run the guide's test");
            yield break;
        }
        var used = online.Count(n => n.ActiveSessions > 0);
        var found = $"{total} sessions on {used} of {online.Count} online nodes ({string.Join(", ", online.Select(n => $"{n.Address}: {n.ActiveSessions}"))})";
        yield return used >= 2 || total < online.Count
            ? c.Pass(Cluster, found)
            : c.Fail(Cluster, found, "sessions on more than one node",
                "Check the balancer (Get-WbBalancer), that every node is Online, and per the guide load one node and start more sessions until they spread.");
    }
}
