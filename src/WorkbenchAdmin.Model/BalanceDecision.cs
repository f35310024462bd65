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
/// <summary>
/// What a decision keeps of one candidate besides its RSTUDIO_NODES entry and score, copied when the decision is made.
/// Blittable: filling an array of them needs no GC write barrier, so the copy costs little more than the reads.
/// </summary>
internal readonly struct CandidateFacts
{
    private const byte IsOnline = 1, IsDraining = 2, HasCores = 4;
    private readonly int _cores;
    private readonly byte _flags;

    public CandidateFacts(NodeCandidate node)
    {
        Id = node.Id;
        ActiveSessions = node.ActiveSessions;
        Load5 = node.Load5;
        var cores = node.Cores;
        _cores = cores.GetValueOrDefault();
        _flags = (byte)((node.Online ? IsOnline : 0) | (node.Draining ? IsDraining : 0) | (cores.HasValue ? HasCores : 0));
    }

    public CandidateFacts(in CandidateScore c)
    {
        Id = c.Id;
        ActiveSessions = c.ActiveSessions;
        Load5 = c.Load5;
        _cores = c.Cores.GetValueOrDefault();
        _flags = (byte)((c.Online ? IsOnline : 0) | (c.Draining ? IsDraining : 0) | (c.Cores.HasValue ? HasCores : 0));
    }

    public int Id { get; }
    public int ActiveSessions { get; }
    public double Load5 { get; }
    public int? Cores => (_flags & HasCores) != 0 ? _cores : null;
    public bool Online => (_flags & IsOnline) != 0;
    public bool Draining => (_flags & IsDraining) != 0;
}

/// <summary>
/// A balancing decision: the chosen node, the method, the user, why, every candidate with the score it was
/// judged on, and how long deciding took. Immutable: the candidates are a snapshot taken when the decision
/// was made, and the reason (built on first read) is computed from that snapshot alone.
/// </summary>
public sealed class BalanceDecision
{
    // The snapshot, in set order: the candidates' entries (the set's own array, never changed once built), their
    // facts and scores (NaN for none), copied per decision. CandidateScore values are built from them when read.
    private readonly string[] _entries;
    private readonly CandidateFacts[] _facts;
    private readonly double[] _scores;
    private readonly IDecisionExplainer _explainer;
    private string? _reason;
    private IReadOnlyList<CandidateScore>? _candidates;

    internal BalanceDecision(string method, string userName, CandidateScore[] candidates, int chosenIndex, int onlineCount,
                             string node, bool useIpAddress, ulong? hash, string? scriptOutput, TimeSpan elapsed, IDecisionExplainer explainer,
                             int? maxSessionsPerNode = null)
        : this(method, userName, Array.ConvertAll(candidates, c => c.Node), Array.ConvertAll(candidates, c => new CandidateFacts(c)),
               Array.ConvertAll(candidates, c => c.Score ?? double.NaN), chosenIndex, onlineCount, node, useIpAddress, hash, scriptOutput,
               elapsed, explainer, maxSessionsPerNode)
    {
    }

    internal BalanceDecision(string method, string userName, string[] entries, CandidateFacts[] facts, double[] scores, int chosenIndex,
                             int onlineCount, string node, bool useIpAddress, ulong? hash, string? scriptOutput, TimeSpan elapsed,
                             IDecisionExplainer explainer, int? maxSessionsPerNode = null)
    {
        MaxSessionsPerNode = maxSessionsPerNode;
        Method = method;
        UserName = userName;
        _entries = entries;
        _facts = facts;
        _scores = scores;
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
    public int NodeId => _facts[ChosenIndex].Id;
    /// <summary>The chosen candidate as the decision saw it.</summary>
    public CandidateScore Chosen => Candidate(ChosenIndex);
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
            List<string>? left = null;
            for (var i = 0; i < _facts.Length; i++)
            {
                var c = _facts[i];
                var why = Eligibility.WhyLeftOut(c.Online, c.Draining, c.ActiveSessions, MaxSessionsPerNode);
                if (why is Eligibility.Draining or Eligibility.Full)
                    (left ??= []).Add(why == Eligibility.Full ? $"{_entries[i]} full ({c.ActiveSessions} of {MaxSessionsPerNode})" : $"{_entries[i]} draining");
            }
            return left is null ? null : string.Join(", ", left);
        }
    }
    public bool UseIPAddress { get; }
    /// <summary>Hash-based methods: CityHash64 of the user name's UTF-8 bytes.</summary>
    public ulong? Hash { get; }
    /// <summary>custom: what the script printed (trimmed).</summary>
    public string? ScriptOutput { get; }
    public TimeSpan Elapsed { get; }
    public double ElapsedMicroseconds => Elapsed.TotalMicroseconds;
    /// <summary>Built on first read from the snapshot (most decisions are placed, not inspected).</summary>
    public IReadOnlyList<CandidateScore> Candidates
    {
        get
        {
            if (_candidates is null)
            {
                var all = new CandidateScore[_facts.Length];
                for (var i = 0; i < all.Length; i++) all[i] = Candidate(i);
                _candidates = Array.AsReadOnly(all);
            }
            return _candidates;
        }
    }
    public string Reason => _reason ??= Excluded is { } left ? $"{_explainer.Explain(this)}; left out: {left}" : _explainer.Explain(this);

    public override string ToString() => $"{UserName} -> {Node} ({Method}: {Reason})";

    private CandidateScore Candidate(int i)
    {
        var c = _facts[i];
        var score = _scores[i];
        return new CandidateScore(c.Id, _entries[i], c.Online, c.ActiveSessions, c.Load5, c.Cores, double.IsNaN(score) ? null : score,
                                  i == ChosenIndex, c.Draining);
    }
}
