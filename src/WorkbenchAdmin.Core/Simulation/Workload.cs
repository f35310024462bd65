using System.Globalization;

namespace WorkbenchAdmin.Core.Simulation;

/// <summary>One session of a workload: who, when (seconds after the workload's start; End is exclusive) and how much CPU it keeps runnable.</summary>
public readonly record struct WorkloadSession(int User, long Start, long End, double Cpu);

/// <summary>A node of the simulated cluster at the start: its RSTUDIO_NODES host and port, and its cores.</summary>
public sealed record SimNodeSpec(string Host, int Port, int Cores)
{
    public string Entry => NodeCandidate.FormatAddress(Host, Port);
}

/// <summary>
/// What the simulator replays: users, their sessions sorted by start (then user), the cluster's nodes at the
/// start, and how long the run lasts. Times are whole seconds after <see cref="Start"/>.
/// </summary>
public sealed class Workload
{
    public Workload(string description, DateTimeOffset start, long duration, IReadOnlyList<string> users,
                    IEnumerable<WorkloadSession> sessions, IReadOnlyList<SimNodeSpec> nodes)
    {
        if (nodes.Count == 0)
            throw new WbException("NoSimulatedNodes", WbErrorCategory.InvalidArgument, "The simulated cluster has no nodes (-NodeCount).", null);
        Description = description;
        Start = start;
        Duration = Math.Max(duration, LoadAverage.SampleSeconds);
        _users = users.ToArray();
        Nodes = nodes;
        // A stable order: by start, then by the order given (equal starts keep their input order).
        _sessions = sessions.Select((s, i) => (s, i)).OrderBy(x => x.s.Start).ThenBy(x => x.i).Select(x => x.s).ToArray();
        foreach (var s in _sessions)
            if ((uint)s.User >= (uint)_users.Length || s.End <= s.Start || !double.IsFinite(s.Cpu) || s.Cpu < 0)
                throw new ArgumentException($"Session {s} has no such user, ends before it starts, or has no valid CPU.", nameof(sessions));
    }

    // Arrays for the simulator's inner loop (no interface calls per arrival).
    private readonly string[] _users;
    private readonly WorkloadSession[] _sessions;
    internal string[] UserArray => _users;
    internal WorkloadSession[] SessionArray => _sessions;

    public string Description { get; }
    public DateTimeOffset Start { get; }
    public long Duration { get; }
    public IReadOnlyList<string> Users => _users;
    public IReadOnlyList<WorkloadSession> Sessions => _sessions;
    public IReadOnlyList<SimNodeSpec> Nodes { get; }

    /// <summary>Nodes named node01…nodeNN (port 8787), each with the same cores.</summary>
    public static IReadOnlyList<SimNodeSpec> NumberedNodes(int count, int cores)
    {
        if (count is < 1 or > 1000)
            throw new WbException("InvalidNodeCount", WbErrorCategory.InvalidArgument, $"-NodeCount {count} must be from 1 to 1000.", count);
        ValidateCores(cores);
        return Enumerable.Range(1, count).Select(i => new SimNodeSpec(NodeName(i), 8787, cores)).ToArray();
    }

    /// <summary>node01, node02, …: the name of the i-th simulated node (1-based).</summary>
    public static string NodeName(int i) => "node" + i.ToString("D2", CultureInfo.InvariantCulture);

    internal static void ValidateCores(int cores)
    {
        if (cores is < 1 or > 4096)
            throw new WbException("InvalidCores", WbErrorCategory.InvalidArgument, $"-Cores {cores} must be from 1 to 4096.", cores);
    }

    /// <summary>The workload of recorded sessions: they start at the first session's day (UTC midnight) and run until the last start or end.</summary>
    internal static Workload FromRecords(string description, IReadOnlyList<(string User, DateTimeOffset Start, DateTimeOffset? End, double Cpu)> records,
                                         IReadOnlyList<SimNodeSpec> nodes)
    {
        if (records.Count == 0)
            throw new WbException("EmptyWorkload", WbErrorCategory.InvalidData, $"{description} has no sessions to replay.", description);
        var first = records.Min(r => r.Start).ToUniversalTime();
        var start = new DateTimeOffset(first.Date, TimeSpan.Zero);
        var last = records.Max(r => r.End is { } e && e > r.Start ? e : r.Start);
        var duration = (long)Math.Ceiling((last - start).TotalSeconds) + 1;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var users = new List<string>();
        var sessions = new List<WorkloadSession>(records.Count);
        foreach (var r in records)
        {
            if (!index.TryGetValue(r.User, out var u)) { u = users.Count; index.Add(r.User, u); users.Add(r.User); }
            var s = (long)Math.Floor((r.Start - start).TotalSeconds);
            var e = r.End is { } end ? (long)Math.Floor((end - start).TotalSeconds) : duration;
            sessions.Add(new WorkloadSession(u, s, Math.Max(e, s + 1), r.Cpu));
        }
        return new Workload(description, start, duration, users, sessions, nodes);
    }
}

/// <summary>A synthetic workload's shape (Measure-WbBalancer's defaults).</summary>
public sealed record SyntheticWorkloadOptions
{
    public int UserCount { get; init; } = 200;
    public int NodeCount { get; init; } = 4;
    public int Cores { get; init; } = 8;
    public int Days { get; init; } = 7;
    public int Seed { get; init; } = 1;
}

/// <summary>
/// A working-day workload: sessions arrive mostly on weekdays with a morning peak (about 9:00) and a smaller
/// afternoon one; most users run short, light sessions, and a few heavy users (about 1 in 20) run long,
/// CPU-hungry ones. The same options give the same workload on every machine.
/// </summary>
public static class SyntheticWorkload
{
    /// <summary>Monday 2024-01-01 00:00 UTC: a fixed start, so the workload (and the report) never depend on today.</summary>
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Workload Generate(SyntheticWorkloadOptions o)
    {
        if (o.UserCount is < 1 or > 1_000_000)
            throw new WbException("InvalidUserCount", WbErrorCategory.InvalidArgument, $"-UserCount {o.UserCount} must be from 1 to 1000000.", o.UserCount);
        if (o.Days is < 1 or > 3660)
            throw new WbException("InvalidDays", WbErrorCategory.InvalidArgument, $"-Days {o.Days} must be from 1 to 3660.", o.Days);
        var nodes = Workload.NumberedNodes(o.NodeCount, o.Cores);
        var random = new SimRandom(unchecked((ulong)o.Seed));
        var digits = Math.Max(3, o.UserCount.ToString(CultureInfo.InvariantCulture).Length);
        var users = new string[o.UserCount];
        var sessions = new List<WorkloadSession>(o.UserCount * o.Days * 2);
        for (var u = 0; u < users.Length; u++)
        {
            users[u] = "user" + (u + 1).ToString("D" + digits, CultureInfo.InvariantCulture);
            var heavy = random.NextDouble() < 0.05;
            var activity = Math.Clamp(random.NextLogNormal(1.0, 0.5), 0.1, 5);
            for (var day = 0; day < o.Days; day++)
            {
                var weekend = day % 7 >= 5;
                var count = random.NextPoisson((weekend ? 0.15 : 1.6) * activity);
                for (var k = 0; k < count; k++)
                {
                    var start = day * 86400L + (long)(ArrivalHour(random) * 3600);
                    var minutes = heavy ? random.NextLogNormal(300, 0.6) : random.NextLogNormal(75, 0.8);
                    var duration = (long)(Math.Clamp(minutes, 2, 48 * 60) * 60);
                    var cpu = heavy ? Math.Clamp(random.NextLogNormal(2.5, 0.4), 0.5, o.Cores) : Math.Clamp(random.NextLogNormal(0.25, 0.7), 0.02, Math.Min(2, o.Cores));
                    sessions.Add(new WorkloadSession(u, start, start + duration, Math.Round(cpu, 3)));
                }
            }
        }
        var description = string.Create(CultureInfo.InvariantCulture,
            $"synthetic: {o.UserCount} users, {o.NodeCount} nodes of {o.Cores} cores, {o.Days} days, seed {o.Seed}");
        return new Workload(description, Epoch, o.Days * 86400L, users, sessions, nodes);
    }

    /// <summary>Hour of day of an arrival: a morning peak, an afternoon one, and a few at any hour.</summary>
    private static double ArrivalHour(SimRandom random)
    {
        var pick = random.NextDouble();
        var hour = pick < 0.55 ? 9.0 + 0.75 * random.NextNormal()
                 : pick < 0.85 ? 13.5 + 1.25 * random.NextNormal()
                 : 24 * random.NextDouble();
        return Math.Clamp(hour, 0, 23.99);
    }
}
