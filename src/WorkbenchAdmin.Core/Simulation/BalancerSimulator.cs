using System.Diagnostics;
using System.Globalization;
using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Simulation;

/// <summary>How to run a simulation: the cluster events, the per-node limit, and how often to sample.</summary>
public sealed record SimulationOptions
{
    public IReadOnlyList<BalancerEvent> Events { get; init; } = [];
    public int? MaxSessionsPerNode { get; init; }
    /// <summary>Seconds between samples of the series (a multiple of the load model's 5 s).</summary>
    public int IntervalSeconds { get; init; } = 900;
    /// <summary>Keep the per-node series as <see cref="BalancerSample"/> rows in the result.</summary>
    public bool Detail { get; init; }
}

/// <summary>A cluster event with its node resolved to the simulation's node number.</summary>
public sealed record ResolvedEvent(long At, string Kind, int Node, string Text);

/// <summary>One method's run: its result, and the compact series the report draws.</summary>
public sealed class SimulationRun
{
    public required BalancerComparison Result { get; init; }
    /// <summary>Every node that was ever in the cluster, by node number (RSTUDIO_NODES entries).</summary>
    public required IReadOnlyList<string> NodeNames { get; init; }
    public required int Samples { get; init; }
    public required int IntervalSeconds { get; init; }
    /// <summary>Sessions per node at each sample: [sample × nodes + node]; −1 when the node was not in the cluster.</summary>
    public required int[] Sessions { get; init; }
    public required double[] Imbalance { get; init; }
}

/// <summary>
/// The event-driven simulator: replays a workload's arrivals through one balancing policy, the same
/// <see cref="IBalancingPolicy.Choose"/> production runs, over simulated nodes whose 5-minute load follows the
/// kernel's formula every 5 s. Which nodes may take a session is <see cref="Eligibility.WhyLeftOut"/>, as in
/// <see cref="BalanceEngine"/>; a session no node may take is refused. At one instant, ending sessions go first,
/// then the load sample, then cluster events, then arrivals.
/// </summary>
public static class BalancerSimulator
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);
    private const byte Absent = 0, OnlineState = 1, DrainingState = 2, OfflineState = 3;
    private static readonly string[] StateNames = ["", "Online", "Draining", "Offline"];

    /// <summary>Checks the events against the workload's nodes and gives each its node number; shared by every method's run.</summary>
    public static (IReadOnlyList<ResolvedEvent> Events, IReadOnlyList<SimNodeSpec> AllNodes) ResolveEvents(Workload workload, IReadOnlyList<BalancerEvent> events)
    {
        var nodes = workload.Nodes.ToList();
        var present = nodes.Select(_ => true).ToList();
        var online = nodes.Select(_ => true).ToList();
        var draining = nodes.Select(_ => false).ToList();
        var resolved = new List<ResolvedEvent>();
        foreach (var ev in events.Select((e, i) => (e, i)).OrderBy(x => x.e.At).ThenBy(x => x.i).Select(x => x.e))
        {
            if (ev is null) continue;
            var text = ev.ToString();
            WbException Bad(string why) => new("InvalidBalancerEvent", WbErrorCategory.InvalidArgument, $"-Event '{SafeText.Quote(text)}': {why}.", ev);
            var at = (long)ev.At.TotalSeconds;
            if (ev.At < TimeSpan.Zero || at >= workload.Duration)
                throw Bad(string.Create(CultureInfo.InvariantCulture, $"it is not within the workload, which lasts {TimeSpan.FromSeconds(workload.Duration):d\\.hh\\:mm}"));
            var kind = (ev.Kind ?? "").Trim().ToLowerInvariant();
            if (!BalancerEventKinds.Names.Contains(kind)) throw Bad($"the kind must be one of {string.Join(", ", BalancerEventKinds.Names)}");
            int id;
            if (kind == BalancerEventKinds.Add && string.IsNullOrWhiteSpace(ev.Node))
            {
                var k = 1;
                while (nodes.Any(n => n.Host == Workload.NodeName(k))) k++;
                id = nodes.Count;
                nodes.Add(new SimNodeSpec(Workload.NodeName(k), 8787, nodes[0].Cores));
                present.Add(false); online.Add(true); draining.Add(false);
            }
            else
            {
                NodeCandidate parsed;
                try { parsed = NodeCandidate.Parse(ev.Node ?? ""); }
                catch (WbException) { throw Bad($"'{SafeText.Quote(ev.Node)}' is not a node name (host or host:port)"); }
                id = nodes.FindIndex(n => n.Entry == parsed.NodesEntry(false));
                if (id < 0)
                {
                    if (kind != BalancerEventKinds.Add)
                        throw Bad($"there is no node {parsed.NodesEntry(false)} (the nodes are {string.Join(", ", nodes.Select(n => n.Entry))})");
                    id = nodes.Count;
                    nodes.Add(new SimNodeSpec(parsed.Host, parsed.Port, nodes[0].Cores));
                    present.Add(false); online.Add(true); draining.Add(false);
                }
            }
            var name = nodes[id].Entry;
            var why = kind switch
            {
                BalancerEventKinds.Add when present[id] => "the node is already in the cluster",
                not BalancerEventKinds.Add when !present[id] => "the node is not in the cluster then",
                BalancerEventKinds.Drain when draining[id] => "the node is already draining",
                BalancerEventKinds.Resume when !draining[id] => "the node is not draining",
                BalancerEventKinds.Fail when !online[id] => "the node has already failed",
                BalancerEventKinds.Recover when online[id] => "the node has not failed",
                _ => null,
            };
            if (why is not null) throw Bad($"{why} ({name})");
            switch (kind)
            {
                case BalancerEventKinds.Add: present[id] = true; online[id] = true; draining[id] = false; break;
                case BalancerEventKinds.Remove: present[id] = false; break;
                case BalancerEventKinds.Drain: draining[id] = true; break;
                case BalancerEventKinds.Resume: draining[id] = false; break;
                case BalancerEventKinds.Fail: online[id] = false; break;
                case BalancerEventKinds.Recover: online[id] = true; break;
            }
            resolved.Add(new ResolvedEvent(at, kind, id, $"{ev.At.ToString(@"d\.hh\:mm", CultureInfo.InvariantCulture)} {kind} {name}"));
        }
        return (resolved, nodes);
    }

    public static SimulationRun Run(Workload workload, IBalancingPolicy policy, SimulationOptions options,
                                    CancellationToken cancellation = default, Action<double>? progress = null)
    {
        if (options.IntervalSeconds < LoadAverage.SampleSeconds || options.IntervalSeconds % LoadAverage.SampleSeconds != 0)
            throw new WbException("InvalidInterval", WbErrorCategory.InvalidArgument,
                $"-Interval of {options.IntervalSeconds} s must be a whole multiple of the load model's {LoadAverage.SampleSeconds} s.", options.IntervalSeconds);
        var (events, specs) = ResolveEvents(workload, options.Events);
        return new Simulation(workload, policy, options, events, specs, cancellation, progress).Run();
    }

    private sealed class Simulation
    {
        private readonly Workload _w;
        private readonly IBalancingPolicy _policy;
        private readonly SimulationOptions _o;
        private readonly IReadOnlyList<ResolvedEvent> _events;
        private readonly IReadOnlyList<SimNodeSpec> _specs;
        private readonly CancellationToken _cancellation;
        private readonly Action<double>? _progress;

        private readonly NodeCandidate[] _nodes;
        private readonly double[] _cpu;
        private readonly bool[] _present;
        private CandidateSet _set = null!;
        private int[] _setIds = [];
        private double[] _scores = [];

        private readonly int[] _sessionNode;
        private readonly PriorityQueue<int, long> _ends = new();
        private long _nextTick;
        private readonly int _total;
        private readonly int _sampleCount;
        private int _sample;
        private readonly int[] _sampleSessions;
        private readonly double[] _sampleLoad;
        private readonly byte[] _sampleState;
        private readonly double[] _imbalance;
        private readonly List<int> _sessionSamples = new();
        private readonly List<double> _loadSamples = new();
        private double _peakLoad;
        private int _peakSessions;

        public Simulation(Workload w, IBalancingPolicy policy, SimulationOptions o, IReadOnlyList<ResolvedEvent> events, IReadOnlyList<SimNodeSpec> specs,
                          CancellationToken cancellation, Action<double>? progress)
        {
            _w = w; _policy = policy; _o = o; _events = events; _specs = specs; _cancellation = cancellation; _progress = progress;
            _total = specs.Count;
            _nodes = new NodeCandidate[_total];
            _cpu = new double[_total];
            _present = new bool[_total];
            for (var i = 0; i < _total; i++)
            {
                _nodes[i] = new NodeCandidate { Id = i + 1, Host = specs[i].Host, Port = specs[i].Port, Cores = specs[i].Cores };
                _present[i] = i < w.Nodes.Count;
            }
            _sessionNode = new int[w.Sessions.Count];
            Array.Fill(_sessionNode, -1);
            _sampleCount = (int)(w.Duration / o.IntervalSeconds) + 1;
            _sampleSessions = new int[_sampleCount * _total];
            _sampleLoad = new double[_sampleCount * _total];
            _sampleState = new byte[_sampleCount * _total];
            _imbalance = new double[_sampleCount];
            Rebuild();
        }

        /// <summary>The candidate set of the nodes in the cluster, in node order; rebuilt only when a node joins or leaves.</summary>
        private void Rebuild()
        {
            _setIds = Enumerable.Range(0, _total).Where(i => _present[i]).ToArray();
            _set = new CandidateSet(_setIds.Select(i => _nodes[i]));
            _scores = new double[_setIds.Length];
        }

        public SimulationRun Run()
        {
            var started = Stopwatch.GetTimestamp();
            var sessions = _w.SessionArray;
            var users = _w.UserArray;
            var lastNode = new int[users.Length];
            Array.Fill(lastNode, -1);
            var userEpoch = new int[users.Length];
            Array.Fill(userEpoch, -1);
            var switched = new bool[users.Length];
            var moved = new int[_events.Count];
            var compared = new int[_events.Count];
            var lost = new int[_events.Count];
            int refused = 0, switches = 0, withPrevious = 0, switchedUsers = 0, epoch = 0;
            long decisions = 0, deciding = 0, lastProgress = 0;
            var max = _o.MaxSessionsPerNode;

            for (var a = 0; a < sessions.Length; a++)
            {
                var s = sessions[a];
                if (s.Start >= _w.Duration) break;
                while (epoch < _events.Count && _events[epoch].At <= s.Start)
                {
                    AdvanceTo(_events[epoch].At);
                    lost[epoch] = Apply(_events[epoch], a);
                    epoch++;
                }
                AdvanceTo(s.Start);
                // Every 256 arrivals: stop when asked, and report progress at most four times a second
                // (a custom script's decisions take milliseconds, the built-in ones well under a microsecond).
                if ((a & 255) == 0)
                {
                    _cancellation.ThrowIfCancellationRequested();
                    if (_progress is not null && Stopwatch.GetElapsedTime(lastProgress) >= ProgressEvery)
                    {
                        lastProgress = Stopwatch.GetTimestamp();
                        _progress((double)s.Start / _w.Duration);
                    }
                }

                decisions++;
                var eligible = 0;
                foreach (var n in _set.Nodes)
                    if (Eligibility.WhyLeftOut(n.Online, n.Draining, n.ActiveSessions, max) is null) eligible++;
                if (eligible == 0) { refused++; continue; }
                var context = new BalanceContext(_set, users[s.User], false, eligible, max, _cancellation);
                var t0 = Stopwatch.GetTimestamp();
                var choice = _policy.Choose(context, _scores);
                deciding += Stopwatch.GetTimestamp() - t0;
                if ((uint)choice.Index >= (uint)_set.Count || !context.IsEligible(_set[choice.Index]))
                    throw new InvalidOperationException($"The {_policy.Name} policy chose no eligible node (index {choice.Index}).");

                var id = _setIds[choice.Index];
                var node = _nodes[id];
                node.ActiveSessions++;
                _cpu[id] += s.Cpu;
                _sessionNode[a] = id;
                _ends.Enqueue(a, s.End);
                if (node.ActiveSessions > _peakSessions) _peakSessions = node.ActiveSessions;

                var u = s.User;
                if (lastNode[u] >= 0)
                {
                    withPrevious++;
                    if (lastNode[u] != id)
                    {
                        switches++;
                        if (!switched[u]) { switched[u] = true; switchedUsers++; }
                    }
                    if (epoch > 0 && userEpoch[u] == epoch - 1)
                    {
                        compared[epoch - 1]++;
                        if (lastNode[u] != id) moved[epoch - 1]++;
                    }
                }
                lastNode[u] = id;
                userEpoch[u] = epoch;
            }
            for (; epoch < _events.Count; epoch++)
            {
                AdvanceTo(_events[epoch].At);
                lost[epoch] = Apply(_events[epoch], sessions.Length);
            }
            AdvanceTo(_w.Duration);
            _progress?.Invoke(1);

            var elapsed = Stopwatch.GetElapsedTime(started);
            var impacts = _events.Select((e, i) => new BalancerEventImpact
            {
                Event = e.Text, Node = _specs[e.Node].Entry, UsersMoved = moved[i], UsersCompared = compared[i], SessionsLost = lost[i],
            }).ToArray();
            var sampled = Math.Min(_sample, _sampleCount);
            var result = new BalancerComparison
            {
                Method = _policy.Name,
                Sessions = (int)decisions,
                Refused = refused,
                PeakSessionsPerNode = _peakSessions,
                P95SessionsPerNode = Percentile95(_sessionSamples.Select(x => (double)x).ToList()),
                MaxImbalance = Round(sampled == 0 ? 0 : _imbalance.AsSpan(0, sampled).ToArray().Max()),
                MeanImbalance = Round(sampled == 0 ? 0 : _imbalance.AsSpan(0, sampled).ToArray().Average()),
                PeakLoadPerCore = Round(_peakLoad),
                P95LoadPerCore = Round(Percentile95(_loadSamples)),
                Switches = switches,
                SwitchPercent = Round(withPrevious == 0 ? 0 : 100.0 * switches / withPrevious),
                SwitchedUsers = switchedUsers,
                UsersMovedByEvents = moved.Sum(),
                Events = impacts,
                Decisions = decisions - refused,
                DecisionsPerSecond = deciding == 0 ? 0 : Math.Round((decisions - refused) / (deciding / (double)Stopwatch.Frequency)),
                Elapsed = elapsed,
                Series = _o.Detail ? Series() : [],
            };
            return new SimulationRun
            {
                Result = result,
                NodeNames = _specs.Select(n => n.Entry).ToArray(),
                Samples = sampled,
                IntervalSeconds = _o.IntervalSeconds,
                Sessions = _sampleSessions.AsSpan(0, sampled * _total).ToArray(),
                Imbalance = _imbalance.AsSpan(0, sampled).ToArray(),
            };
        }

        /// <summary>Applies a cluster event; returns the sessions it ended. <paramref name="placed"/>: sessions placed so far.</summary>
        private int Apply(ResolvedEvent e, int placed)
        {
            var node = _nodes[e.Node];
            var lostCount = 0;
            switch (e.Kind)
            {
                case BalancerEventKinds.Add:
                    _present[e.Node] = true;
                    node.Online = true; node.Draining = false; node.ActiveSessions = 0; node.Load5 = 0; _cpu[e.Node] = 0;
                    Rebuild();
                    break;
                case BalancerEventKinds.Remove:
                    lostCount = EndAllOn(e.Node, placed);
                    _present[e.Node] = false;
                    Rebuild();
                    break;
                case BalancerEventKinds.Fail:
                    lostCount = EndAllOn(e.Node, placed);
                    node.Online = false; node.Load5 = 0;
                    break;
                case BalancerEventKinds.Recover: node.Online = true; node.Load5 = 0; break;
                case BalancerEventKinds.Drain: node.Draining = true; break;
                case BalancerEventKinds.Resume: node.Draining = false; break;
            }
            return lostCount;
        }

        private int EndAllOn(int id, int placed)
        {
            var count = 0;
            for (var i = 0; i < placed; i++)
                if (_sessionNode[i] == id) { _sessionNode[i] = -1; count++; }
            _nodes[id].ActiveSessions = 0;
            _cpu[id] = 0;
            return count;
        }

        /// <summary>Runs, in time order, the session ends and the 5-s load samples up to <paramref name="time"/> (ends at a tick's instant first).</summary>
        private void AdvanceTo(long time)
        {
            while (true)
            {
                var hasEnd = _ends.TryPeek(out var index, out var end);
                if (hasEnd && end <= time && end <= _nextTick)
                {
                    _ends.Dequeue();
                    var id = _sessionNode[index];
                    if (id < 0) continue; // lost to a failed or removed node
                    _sessionNode[index] = -1;
                    var node = _nodes[id];
                    node.ActiveSessions--;
                    // Exactly zero when idle: sums of CPU never drift below zero.
                    _cpu[id] = node.ActiveSessions == 0 ? 0 : Math.Max(0, _cpu[id] - _w.SessionArray[index].Cpu);
                }
                else if (_nextTick <= time)
                {
                    Tick();
                    _nextTick += LoadAverage.SampleSeconds;
                }
                else return;
            }
        }

        private void Tick()
        {
            var decay = LoadAverage.Decay5;
            for (var i = 0; i < _total; i++)
            {
                if (!_present[i]) continue;
                var node = _nodes[i];
                if (!node.Online) continue;
                node.Load5 = LoadAverage.Next(node.Load5, _cpu[i], decay);
                var perCore = node.Load5 / node.Cores!.Value;
                if (perCore > _peakLoad) _peakLoad = perCore;
            }
            if (_nextTick % _o.IntervalSeconds == 0 && _sample < _sampleCount) Sample();
        }

        private void Sample()
        {
            var row = _sample * _total;
            int taking = 0, most = 0, sum = 0;
            for (var i = 0; i < _total; i++)
            {
                var node = _nodes[i];
                if (!_present[i]) { _sampleSessions[row + i] = -1; continue; }
                var state = !node.Online ? OfflineState : node.Draining ? DrainingState : OnlineState;
                _sampleState[row + i] = state;
                _sampleSessions[row + i] = node.ActiveSessions;
                var perCore = node.Load5 / node.Cores!.Value;
                _sampleLoad[row + i] = perCore;
                if (state == OfflineState) continue;
                _sessionSamples.Add(node.ActiveSessions);
                _loadSamples.Add(perCore);
                if (state == OnlineState)
                {
                    taking++;
                    sum += node.ActiveSessions;
                    most = Math.Max(most, node.ActiveSessions);
                }
            }
            _imbalance[_sample] = taking == 0 ? 0 : most - (double)sum / taking;
            _sample++;
        }

        private BalancerSample[] Series()
        {
            var rows = new List<BalancerSample>();
            for (var k = 0; k < Math.Min(_sample, _sampleCount); k++)
            {
                var time = _w.Start.AddSeconds((double)k * _o.IntervalSeconds);
                for (var i = 0; i < _total; i++)
                {
                    var state = _sampleState[k * _total + i];
                    if (state == Absent) continue;
                    var perCore = _sampleLoad[k * _total + i];
                    rows.Add(new BalancerSample
                    {
                        Method = _policy.Name, Time = time, Node = _specs[i].Entry, State = StateNames[state],
                        Sessions = _sampleSessions[k * _total + i], Load5 = Round(perCore * _specs[i].Cores), LoadPerCore = Round(perCore),
                        Imbalance = Round(_imbalance[k]),
                    });
                }
            }
            return rows.ToArray();
        }
    }

    /// <summary>Nearest-rank 95th percentile; 0 for no values.</summary>
    internal static double Percentile95(List<double> values)
    {
        if (values.Count == 0) return 0;
        values.Sort();
        return values[(int)Math.Ceiling(0.95 * values.Count) - 1];
    }

    private static double Round(double value) => Math.Round(value, 3, MidpointRounding.AwayFromZero);
}
