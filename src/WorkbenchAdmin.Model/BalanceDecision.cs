namespace WorkbenchAdmin.Model;

/// <summary>One candidate as the decision saw it: a copy, so later changes to the node never change the decision.</summary>
public readonly record struct CandidateScore(int Id, string Node, bool Online, int ActiveSessions, double Load5, int? Cores, double? Score, bool Chosen, bool Draining = false);

/// <summary>Turns a decision into its one-line reason; each balancing policy explains its own decisions.</summary>
public interface IDecisionExplainer
{
    string Explain(BalanceDecision decision);
}

/// <summary>
/// A balancing decision: the chosen node, the method, the user, why, every candidate with the score it was
/// judged on, and how long deciding took. Immutable: the candidates are a snapshot taken when the decision
/// was made, and the reason (built on first read) is computed from that snapshot alone.
/// </summary>
public sealed class BalanceDecision
{
    private readonly CandidateScore[] _candidates;
    private readonly IDecisionExplainer _explainer;
    private string? _reason;

    internal BalanceDecision(string method, string userName, CandidateScore[] candidates, int chosenIndex, int onlineCount,
                             string node, bool useIpAddress, ulong? hash, string? scriptOutput, TimeSpan elapsed, IDecisionExplainer explainer,
                             int? maxSessionsPerNode = null)
    {
        MaxSessionsPerNode = maxSessionsPerNode;
        Method = method;
        UserName = userName;
        _candidates = candidates;
        ChosenIndex = chosenIndex;
        OnlineCount = onlineCount;
        Node = node;
        UseIPAddress = useIpAddress;
        Hash = hash;
        ScriptOutput = scriptOutput;
        Elapsed = elapsed;
        _explainer = explainer;
    }

    public string Method { get; }
    public string UserName { get; }
    /// <summary>The chosen node as it appears in RSTUDIO_NODES.</summary>
    public string Node { get; }
    public int NodeId => Chosen.Id;
    /// <summary>The chosen candidate as the decision saw it.</summary>
    public CandidateScore Chosen => _candidates[ChosenIndex];
    public int ChosenIndex { get; }
    /// <summary>How many candidates could take the session when the decision was made: online, not draining, not full.</summary>
    public int OnlineCount { get; }
    /// <summary>The per-node session limit the decision honoured; null for none.</summary>
    public int? MaxSessionsPerNode { get; }
    /// <summary>Online nodes the decision left out, and why (draining, full); null when none. Built when read, from the snapshot.</summary>
    public string? Excluded
    {
        get
        {
            var left = _candidates.Select(c => (c, Why: Eligibility.WhyLeftOut(c.Online, c.Draining, c.ActiveSessions, MaxSessionsPerNode)))
                .Where(x => x.Why is Eligibility.Draining or Eligibility.Full)
                .Select(x => x.Why == Eligibility.Full ? $"{x.c.Node} full ({x.c.ActiveSessions} of {MaxSessionsPerNode})" : $"{x.c.Node} draining")
                .ToList();
            return left.Count == 0 ? null : string.Join(", ", left);
        }
    }
    public bool UseIPAddress { get; }
    /// <summary>Hash-based methods: CityHash64 of the user name's UTF-8 bytes.</summary>
    public ulong? Hash { get; }
    /// <summary>custom: what the script printed (trimmed).</summary>
    public string? ScriptOutput { get; }
    public TimeSpan Elapsed { get; }
    public double ElapsedMicroseconds => Elapsed.TotalMicroseconds;
    public IReadOnlyList<CandidateScore> Candidates => Array.AsReadOnly(_candidates);
    public string Reason => _reason ??= Excluded is { } left ? $"{_explainer.Explain(this)}; left out: {left}" : _explainer.Explain(this);

    public override string ToString() => $"{UserName} -> {Node} ({Method}: {Reason})";
}
