using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Live;

/// <summary>What the cluster said in time: the status page's blocks and the store's nodes and sessions, each null when it did not answer.</summary>
public sealed record ClusterData
{
    public IReadOnlyList<NodeSessionLoad>? Status { get; init; }
    public IReadOnlyList<NodeInfo>? StoreNodes { get; init; }
    public IReadOnlyList<NodeSessionLoad>? StoreLoads { get; init; }
    /// <summary>Nodes drained when the store last answered (the program's own record), for when it does not.</summary>
    public IReadOnlySet<string>? LastKnownDrained { get; init; }
}

/// <summary>The candidates of one decision: exactly the entries of RSTUDIO_NODES, with what the cluster knows of each.</summary>
public sealed record LiveCandidateSet(CandidateSet Set, IReadOnlyList<string> Entries, UserSessions Sessions, IReadOnlyList<string> Notes);

/// <summary>
/// Builds candidates from RSTUDIO_NODES and the cluster's data. Workbench lists only nodes it considers
/// available, so every entry is online; sessions and loads come from the status page (what Workbench itself
/// shows) where it lists the node, else from the store; cores and draining only the store knows (draining
/// falls back to the last record of it). An entry matches a node by <c>host:port</c> or <c>ip:port</c>.
/// </summary>
public static class LiveCandidates
{
    public static LiveCandidateSet Build(IReadOnlyList<string> entries, ClusterData data)
    {
        var notes = new List<string>();
        var status = Index(data.Status);
        var storeLoads = Index(data.StoreLoads);
        var candidates = new List<NodeCandidate>(entries.Count);
        var keyed = new List<NodeSessionLoad>(entries.Count);
        var unknown = new List<string>();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var node = NodeOf(entry, data.StoreNodes);
            var block = BlockOf(entry, node, status);
            var stored = node is null ? null : storeLoads.GetValueOrDefault(node.Address);
            var parsed = NodeCandidate.Parse(entry);
            var candidate = new NodeCandidate
            {
                Id = node?.Id ?? 0,
                Host = parsed.Host,
                Port = parsed.Port,
                IPv4Address = parsed.IPv4Address ?? node?.IPv4Address,
                Online = true,
                Draining = node?.Draining ?? data.LastKnownDrained?.Contains(entry) ?? false,
                ActiveSessions = block?.SessionCount ?? node?.ActiveSessions ?? 0,
                Load1 = block?.Load1 ?? node?.Load1 ?? 0,
                Load5 = block?.Load5 ?? node?.Load5 ?? 0,
                Load15 = block?.Load15 ?? node?.Load15 ?? 0,
                Cores = node?.Cores,
            };
            if (block is null && node is null) unknown.Add(entry);
            candidates.Add(candidate);
            var sessions = block?.Sessions ?? stored?.Sessions ?? [];
            keyed.Add(new NodeSessionLoad { Address = candidate.NodesEntry(false), Sessions = sessions, SessionCount = sessions.Count });
        }
        if (unknown.Count > 0 && (data.Status is not null || data.StoreNodes is not null))
            notes.Add(unknown.Count <= NamedUnknown
                ? $"no data for {string.Join(", ", unknown)} (neither the status page nor the store lists it): counted as 0 sessions, load 0"
                : $"no data for {unknown.Count} entries of RSTUDIO_NODES ({string.Join(", ", unknown.Take(NamedUnknown))} and {unknown.Count - NamedUnknown} more; " +
                  "neither the status page nor the store lists them): counted as 0 sessions, load 0");
        return new LiveCandidateSet(new CandidateSet(candidates), entries, UserSessions.From(keyed), notes);
    }

    /// <summary>
    /// Whether the status page gives the sessions of every entry (by the entry itself, or by the address of the store's node
    /// it names): then no count comes from the store.
    /// </summary>
    public static bool CountsEvery(IReadOnlyList<string> entries, IReadOnlyList<NodeSessionLoad> status, IReadOnlyList<NodeInfo> storeNodes)
    {
        var index = Index(status);
        return entries.All(e => BlockOf(e, NodeOf(e, storeNodes), index) is not null);
    }

    /// <summary>The store's node an entry names, by host:port or ip:port.</summary>
    private static NodeInfo? NodeOf(string entry, IReadOnlyList<NodeInfo>? nodes) =>
        nodes?.FirstOrDefault(n => n.Address == entry || (n.IPv4Address is { } ip && NodeCandidate.FormatAddress(ip, n.Port) == entry));

    private static NodeSessionLoad? BlockOf(string entry, NodeInfo? node, Dictionary<string, NodeSessionLoad> status) =>
        status.GetValueOrDefault(entry) ?? (node is null ? null : status.GetValueOrDefault(node.Address));

    /// <summary>Unknown entries named in a note; the rest are counted, so the note stays one short line.</summary>
    private const int NamedUnknown = 10;

    private static Dictionary<string, NodeSessionLoad> Index(IReadOnlyList<NodeSessionLoad>? blocks)
    {
        var index = new Dictionary<string, NodeSessionLoad>(StringComparer.Ordinal);
        foreach (var b in blocks ?? []) index.TryAdd(b.Address, b);
        return index;
    }

    /// <summary>
    /// RSTUDIO_NODES split into entries, each trimmed; empty entries dropped, duplicates and control characters refused.
    /// Entries are compared and printed as given: bytes that are not UTF-8 arrive as <see cref="Platform.RawText"/> decodes them.
    /// </summary>
    public static IReadOnlyList<string> ParseNodesVariable(string? value)
    {
        // Loops, not LINQ chains: this runs in every decision of the NativeAOT program, where chained LINQ operators are
        // resolved at run time (generic virtual methods).
        var entries = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in (value ?? "").Split(','))
        {
            var entry = part.Trim();
            if (entry.Length == 0) continue;
            if (!seen.Add(entry))
                throw new WbException("DuplicateNode", WbErrorCategory.InvalidArgument, $"RSTUDIO_NODES lists '{SafeText.Quote(entry)}' twice.", value);
            entries.Add(entry);
        }
        if (entries.Count == 0)
            throw new WbException(WbErrorIds.NoCandidateNode, WbErrorCategory.InvalidArgument, "RSTUDIO_NODES is empty or unset: there is no node to choose from.", value);
        foreach (var e in entries)
        {
            // A control character is never part of host:port (and must not reach a log line).
            var valid = !e.Any(char.IsControl);
            if (valid)
            {
                try { NodeCandidate.Parse(e); }
                catch (WbException) { valid = false; }
            }
            if (!valid)
                throw new WbException("InvalidNode", WbErrorCategory.InvalidArgument, $"RSTUDIO_NODES entry '{SafeText.Quote(e)}' is not host:port.", value);
        }
        return entries;
    }
}
