using WorkbenchAdmin.Core.Hashing;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>
/// A snapshot of the cluster's nodes for balancing, in node order. Built once per snapshot, so each
/// decision is a single pass: the stable order user-hash needs (RSTUDIO_NODES entries, ordinal) and the
/// entry lookup custom scripts need are prepared here, not per decision.
/// </summary>
public sealed class CandidateSet
{
    private readonly NodeCandidate[] _nodes;
    private readonly string[] _hostEntries;
    private readonly int[] _byHostEntry;
    private int[]? _byIpEntry;
    private Dictionary<string, int>? _hostLookup;
    private Dictionary<string, int>? _ipLookup;
    private ulong[]? _hostHashes;
    private ulong[]? _ipHashes;

    public CandidateSet(IEnumerable<NodeCandidate> nodes)
    {
        _nodes = nodes.ToArray();
        _hostEntries = new string[_nodes.Length];
        for (var i = 0; i < _nodes.Length; i++)
        {
            var node = _nodes[i] ?? throw new ArgumentException("A candidate is null.", nameof(nodes));
            if (node.Id == 0) node.Id = i + 1;
            _hostEntries[i] = node.NodesEntry(false);
        }
        // Sorted now rather than on first use: sorting is also how two candidates with one host:port are found.
        _byHostEntry = OrdinalOrder(_hostEntries, out var twice);
        if (twice >= 0)
            throw new WbException("DuplicateNode", WbErrorCategory.InvalidArgument,
                $"Node '{_hostEntries[twice]}' is listed twice; every candidate needs its own host:port.", _nodes[twice]);
    }

    public int Count => _nodes.Length;
    public NodeCandidate this[int index] => _nodes[index];
    public ReadOnlySpan<NodeCandidate> Nodes => _nodes;

    /// <summary>Each node's host:port entry when the set was built, in set order; shared by every decision's snapshot, never changed.</summary>
    internal string[] HostEntries => _hostEntries;

    /// <summary>Indexes of the nodes sorted by their RSTUDIO_NODES entry (ordinal): user-hash's stable order.</summary>
    public ReadOnlySpan<int> StableOrder(bool useIpAddress) =>
        useIpAddress ? (_byIpEntry ??= SortedByIp()) : _byHostEntry;

    /// <summary>CityHash64 of each node's RSTUDIO_NODES entry (UTF-8), in set order: the node side of rendezvous hashing.</summary>
    public ReadOnlySpan<ulong> EntryHashes(bool useIpAddress) =>
        useIpAddress ? (_ipHashes ??= HashEntries(true)) : (_hostHashes ??= HashEntries(false));

    private ulong[] HashEntries(bool useIp)
    {
        var hashes = new ulong[_nodes.Length];
        // UserNameHash is CityHash64 of a string's UTF-8 bytes, which is what an entry is hashed as.
        for (var i = 0; i < hashes.Length; i++) hashes[i] = UserNameHash.Compute(useIp ? _nodes[i].NodesEntry(true) : _hostEntries[i]);
        return hashes;
    }

    /// <summary>The index of the node whose RSTUDIO_NODES entry is exactly <paramref name="entry"/>, or -1.</summary>
    public int IndexOfEntry(string entry, bool useIpAddress)
    {
        var lookup = useIpAddress ? (_ipLookup ??= BuildLookup(true)) : (_hostLookup ??= BuildLookup(false));
        return lookup.TryGetValue(entry, out var i) ? i : -1;
    }

    private int[] SortedByIp()
    {
        var entries = new string[_nodes.Length];
        for (var i = 0; i < entries.Length; i++) entries[i] = _nodes[i].NodesEntry(true);
        return OrdinalOrder(entries, out _); // equal addresses are refused by BuildLookup, with their own message
    }

    private Dictionary<string, int> BuildLookup(bool useIp)
    {
        var lookup = new Dictionary<string, int>(_nodes.Length, StringComparer.Ordinal);
        for (var i = 0; i < _nodes.Length; i++)
            if (!lookup.TryAdd(_nodes[i].NodesEntry(useIp), i))
                throw new WbException("DuplicateNode", WbErrorCategory.InvalidArgument,
                    $"Two nodes share the address '{_nodes[i].NodesEntry(useIp)}'; by IP address they cannot be told apart.", _nodes[i]);
        return lookup;
    }

    /// <summary>
    /// Indexes of <paramref name="entries"/> in ordinal order. Entries of one cluster share a long prefix ("node", "rsw-prod-"),
    /// so each is keyed by its four UTF-16 units after the common prefix, packed into a ulong that compares in the same
    /// order; integer compares replace string compares, and only entries whose keys tie are compared whole.
    /// <paramref name="duplicate"/>: the later (in set order) of two equal entries, or -1.
    /// </summary>
    internal static int[] OrdinalOrder(string[] entries, out int duplicate)
    {
        duplicate = -1;
        var n = entries.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        if (n < 2) return order;

        var prefix = entries[0].Length;
        for (var i = 1; i < n && prefix > 0; i++) prefix = entries[0].AsSpan(0, prefix).CommonPrefixLength(entries[i]);
        var keys = n <= 64 ? stackalloc ulong[n] : new ulong[n];
        var sorted = true;
        for (var i = 0; i < n; i++)
        {
            keys[i] = Key(entries[i], prefix);
            if (i > 0 && keys[i] < keys[i - 1]) sorted = false;
        }
        // Nodes usually arrive in name order (registration order); then only ties remain to settle.
        if (!sorted) keys.Sort(order.AsSpan());
        for (var start = 0; start < n;)
        {
            var end = start + 1;
            while (end < n && keys[end] == keys[start]) end++;
            if (end - start > 1)
            {
                // Equal entries have equal keys: only here can two candidates share one entry.
                Array.Sort(order, start, end - start, new ByEntry(entries));
                for (var k = start + 1; k < end && duplicate < 0; k++)
                    if (string.Equals(entries[order[k]], entries[order[k - 1]], StringComparison.Ordinal)) duplicate = Math.Max(order[k], order[k - 1]);
            }
            start = end;
        }
        return order;
    }

    /// <summary>Four UTF-16 units of <paramref name="s"/> from <paramref name="from"/>, first unit highest; zero past the end (shorter sorts first).</summary>
    private static ulong Key(string s, int from)
    {
        ulong key = 0;
        for (var j = from; j < from + 4; j++) key = key << 16 | (j < s.Length ? s[j] : 0u);
        return key;
    }

    private sealed class ByEntry(string[] entries) : IComparer<int>
    {
        public int Compare(int x, int y) => string.CompareOrdinal(entries[x], entries[y]);
    }
}
