using System.Globalization;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>One candidate as the decision judged it.</summary>
public sealed record CandidateScore(int Id, string Node, bool Online, int ActiveSessions, double Load5, int? Cores, double? Score, bool Chosen);

/// <summary>
/// A balancing decision: the chosen node, the method, the user, why, every candidate with the score it
/// was judged on, and how long deciding took. The reason and the candidate list are built when read, so
/// making a decision allocates only this object and its score array.
/// </summary>
public sealed class BalanceDecision
{
    private readonly CandidateSet _set;
    private readonly double[] _scores;
    private readonly int _onlineCount;
    private IReadOnlyList<CandidateScore>? _candidates;

    internal BalanceDecision(string method, string userName, CandidateSet set, int chosen, double[] scores, int onlineCount,
                             bool useIpAddress, ulong? hash, string? scriptOutput, TimeSpan elapsed)
    {
        Method = method;
        UserName = userName;
        _set = set;
        ChosenIndex = chosen;
        _scores = scores;
        _onlineCount = onlineCount;
        UseIPAddress = useIpAddress;
        Hash = hash;
        ScriptOutput = scriptOutput;
        Elapsed = elapsed;
    }

    public string Method { get; }
    public string UserName { get; }
    public int ChosenIndex { get; }
    public NodeCandidate ChosenNode => _set[ChosenIndex];
    /// <summary>The chosen node as it appears in RSTUDIO_NODES.</summary>
    public string Node => ChosenNode.NodesEntry(UseIPAddress);
    public int NodeId => ChosenNode.Id;
    public bool UseIPAddress { get; }
    /// <summary>user-hash: CityHash64 of the user name's UTF-8 bytes.</summary>
    public ulong? Hash { get; }
    /// <summary>custom: what the script printed (trimmed).</summary>
    public string? ScriptOutput { get; }
    public TimeSpan Elapsed { get; }
    public double ElapsedMicroseconds => Elapsed.TotalMicroseconds;

    public IReadOnlyList<CandidateScore> Candidates => _candidates ??= BuildCandidates();

    public string Reason
    {
        get
        {
            var node = ChosenNode;
            var inv = CultureInfo.InvariantCulture;
            return Method switch
            {
                BalancingMethods.Sessions => string.Format(inv,
                    "fewest active sessions: {0} ({1} of {2} nodes online; ties go to the lower load, then node order)",
                    node.ActiveSessions, _onlineCount, _set.Count),
                BalancingMethods.SystemLoad => string.Format(inv,
                    "lowest 5-minute load per core: {0:0.###} ({1:0.###} / {2} cores; {3} of {4} nodes online)",
                    _scores[ChosenIndex], node.Load5, node.Cores, _onlineCount, _set.Count),
                BalancingMethods.UserHash => string.Format(inv,
                    "CityHash64(\"{0}\") = 0x{1:x16}; mod {2} online = {3}: entry {4} of the online nodes in RSTUDIO_NODES order",
                    UserName, Hash, _onlineCount, (int)_scores[ChosenIndex], (int)_scores[ChosenIndex] + 1),
                BalancingMethods.Custom => string.Format(inv, "the custom script chose \"{0}\" among {1} online nodes", ScriptOutput, _onlineCount),
                _ => Method,
            };
        }
    }

    private IReadOnlyList<CandidateScore> BuildCandidates()
    {
        var list = new CandidateScore[_set.Count];
        for (var i = 0; i < list.Length; i++)
        {
            var n = _set[i];
            var score = double.IsNaN(_scores[i]) ? (double?)null : _scores[i];
            list[i] = new CandidateScore(n.Id, n.NodesEntry(false), n.Online, n.ActiveSessions, n.Load5, n.Cores, score, i == ChosenIndex);
        }
        return list;
    }

    public override string ToString() => $"{UserName} -> {Node} ({Method}: {Reason})";
}
