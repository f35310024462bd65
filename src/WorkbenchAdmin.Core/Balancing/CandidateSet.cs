
namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// A snapshot of the cluster's nodes for balancing, in node order. Built once per snapshot, so each
/// decision is a single pass: the stable order user-hash needs (RSTUDIO_NODES entries, ordinal) and the
/// entry lookup custom scripts need are prepared here, not per decision.
/// </summary>
public sealed class CandidateSet
{
    private readonly NodeCandidate[] _nodes;
    private int[]? _byHostEntry;
    private int[]? _byIpEntry;
    private Dictionary<string, int>? _hostLookup;
    private Dictionary<string, int>? _ipLookup;
    private ulong[]? _hostHashes;
    private ulong[]? _ipHashes;

    public CandidateSet(IEnumerable<NodeCandidate> nodes)
    {
        _nodes = nodes.ToArray();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _nodes.Length; i++)
        {
            var node = _nodes[i] ?? throw new ArgumentException("A candidate is null.", nameof(nodes));
            if (node.Id == 0) node.Id = i + 1;
            if (!seen.TryAdd(node.NodesEntry(false), i))
                throw new WbException("DuplicateNode", WbErrorCategory.InvalidArgument,
                    $"Node '{node.NodesEntry(false)}' is listed twice; every candidate needs its own host:port.", node);
        }
        _hostLookup = seen;
    }

    public int Count => _nodes.Length;
    public NodeCandidate this[int index] => _nodes[index];
    public ReadOnlySpan<NodeCandidate> Nodes => _nodes;

    /// <summary>Indexes of the nodes sorted by their RSTUDIO_NODES entry (ordinal): user-hash's stable order.</summary>
    public ReadOnlySpan<int> StableOrder(bool useIpAddress) =>
        useIpAddress ? (_byIpEntry ??= SortedBy(true)) : (_byHostEntry ??= SortedBy(false));

    /// <summary>CityHash64 of each node's RSTUDIO_NODES entry (UTF-8), in set order: the node side of rendezvous hashing.</summary>
    public ReadOnlySpan<ulong> EntryHashes(bool useIpAddress) =>
        useIpAddress ? (_ipHashes ??= HashEntries(true)) : (_hostHashes ??= HashEntries(false));

    private ulong[] HashEntries(bool useIp) =>
        _nodes.Select(n => Hashing.CityHash.CityHash64(System.Text.Encoding.UTF8.GetBytes(n.NodesEntry(useIp)))).ToArray();

    /// <summary>The index of the node whose RSTUDIO_NODES entry is exactly <paramref name="entry"/>, or -1.</summary>
    public int IndexOfEntry(string entry, bool useIpAddress)
    {
        var lookup = useIpAddress ? (_ipLookup ??= BuildLookup(true)) : _hostLookup!;
        return lookup.TryGetValue(entry, out var i) ? i : -1;
    }

    private int[] SortedBy(bool useIp)
    {
        var order = Enumerable.Range(0, _nodes.Length).ToArray();
        var keys = _nodes.Select(n => n.NodesEntry(useIp)).ToArray();
        Array.Sort(keys, order, StringComparer.Ordinal);
        return order;
    }

    private Dictionary<string, int> BuildLookup(bool useIp)
    {
        var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _nodes.Length; i++)
            if (!lookup.TryAdd(_nodes[i].NodesEntry(useIp), i))
                throw new WbException("DuplicateNode", WbErrorCategory.InvalidArgument,
                    $"Two nodes share the address '{_nodes[i].NodesEntry(useIp)}'; by IP address they cannot be told apart.", _nodes[i]);
        return lookup;
    }
}
