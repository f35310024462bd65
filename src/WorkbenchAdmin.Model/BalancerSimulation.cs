using System.Globalization;

namespace WorkbenchAdmin.Model;

/// <summary>What can happen to a node during a simulated run (Measure-WbBalancer -Event).</summary>
public static class BalancerEventKinds
{
    /// <summary>A new node joins and takes sessions.</summary>
    public const string Add = "add";
    /// <summary>The node leaves the node list; its running sessions end.</summary>
    public const string Remove = "remove";
    /// <summary>The node takes no new sessions; its running ones go on (Suspend-WbNode).</summary>
    public const string Drain = "drain";
    /// <summary>A drained node takes sessions again (Resume-WbNode).</summary>
    public const string Resume = "resume";
    /// <summary>The node goes offline; its running sessions are lost. It stays in the node list.</summary>
    public const string Fail = "fail";
    /// <summary>A failed node comes back online, empty.</summary>
    public const string Recover = "recover";

    public static readonly IReadOnlyList<string> Names = [Add, Remove, Drain, Resume, Fail, Recover];
}

/// <summary>
/// A cluster event during a simulated run: at <see cref="At"/> after the workload's start, <see cref="Kind"/>
/// happens to <see cref="Node"/>. Parses from the small syntax <c>'&lt;when&gt; &lt;kind&gt; [node]'</c>, when being
/// <c>d.hh:mm[:ss]</c> or <c>hh:mm[:ss]</c>, e.g. <c>'1.10:00 add'</c> or <c>'2.09:30 drain node03'</c>.
/// </summary>
public sealed class BalancerEvent
{
    private static readonly string[] TimeFormats = [@"d\.hh\:mm", @"d\.hh\:mm\:ss", @"hh\:mm", @"hh\:mm\:ss", @"h\:mm"];

    public TimeSpan At { get; set; }
    public string Kind { get; set; } = BalancerEventKinds.Add;
    /// <summary>The node, as host or host:port; for <c>add</c> it may be left out (the next free nodeNN).</summary>
    public string? Node { get; set; }

    public static BalancerEvent Parse(string text)
    {
        var parts = (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 2 or > 3 ||
            !TimeSpan.TryParseExact(parts[0], TimeFormats, CultureInfo.InvariantCulture, out var at) || at < TimeSpan.Zero ||
            !BalancerEventKinds.Names.Contains(parts[1].ToLowerInvariant()) ||
            (parts.Length == 2 && !parts[1].Equals(BalancerEventKinds.Add, StringComparison.OrdinalIgnoreCase)))
            throw new WbException("InvalidBalancerEvent", WbErrorCategory.InvalidArgument,
                $"-Event '{SafeText.Quote(text)}' is not '<when> <kind> <node>': when is d.hh:mm after the start (1.10:00 is day 2 at 10:00), " +
                $"kind one of {string.Join(", ", BalancerEventKinds.Names)}, and the node is needed except for add.", text);
        return new BalancerEvent { At = at, Kind = parts[1].ToLowerInvariant(), Node = parts.Length == 3 ? parts[2] : null };
    }

    public override string ToString() =>
        At.ToString(@"d\.hh\:mm", CultureInfo.InvariantCulture) + " " + Kind + (Node is null ? "" : " " + Node);
}

/// <summary>What one cluster event did to a method's users.</summary>
public sealed record BalancerEventImpact
{
    public required string Event { get; init; }
    /// <summary>The node it happened to (for an add without a name, the one it named).</summary>
    public required string Node { get; init; }
    /// <summary>Users whose first session after the event went to another node than their last one before it.</summary>
    public int UsersMoved { get; init; }
    /// <summary>Users with a session both before the event and after it (before the next event): the base of UsersMoved.</summary>
    public int UsersCompared { get; init; }
    /// <summary>Running sessions the event ended (remove, fail).</summary>
    public int SessionsLost { get; init; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Event}: {UsersMoved}/{UsersCompared} moved, {SessionsLost} lost");
}

/// <summary>
/// How one balancing method treated a workload (Measure-WbBalancer). Every property but <see cref="Elapsed"/> and
/// <see cref="DecisionsPerSecond"/> (timings of this run) is the same for the same inputs and seed.
/// </summary>
public sealed record BalancerComparison
{
    public required string Method { get; init; }
    /// <summary>Sessions that asked for a node.</summary>
    public int Sessions { get; init; }
    /// <summary>Sessions no node could take: every eligible node full (MaxSessionsPerNode), or none online and not draining.</summary>
    public int Refused { get; init; }
    /// <summary>The most sessions any node had at any moment.</summary>
    public int PeakSessionsPerNode { get; init; }
    /// <summary>95th percentile of sessions per online node over every sample (node × interval).</summary>
    public double P95SessionsPerNode { get; init; }
    /// <summary>Imbalance at a sample: the busiest node's sessions minus the mean over the nodes taking sessions. Its maximum over the run.</summary>
    public double MaxImbalance { get; init; }
    /// <summary>The mean of that imbalance over every sample of the run.</summary>
    public double MeanImbalance { get; init; }
    /// <summary>The highest 5-minute load per core of any node (sampled every 5 s, as the kernel computes it).</summary>
    public double PeakLoadPerCore { get; init; }
    /// <summary>95th percentile of the 5-minute load per core over every sample (online node × interval).</summary>
    public double P95LoadPerCore { get; init; }
    /// <summary>Placed sessions whose user's previous session was on another node.</summary>
    public int Switches { get; init; }
    /// <summary>Switches as a percentage of the placed sessions whose user had a previous one.</summary>
    public double SwitchPercent { get; init; }
    /// <summary>Distinct users who were switched at least once.</summary>
    public int SwitchedUsers { get; init; }
    /// <summary>Users moved by all cluster events together (see <see cref="Events"/>).</summary>
    public int UsersMovedByEvents { get; init; }
    public IReadOnlyList<BalancerEventImpact> Events { get; init; } = [];
    /// <summary>The events' impacts as one line, for Export-Csv.</summary>
    public string EventSummary => string.Join("; ", Events);
    public long Decisions { get; init; }
    /// <summary>Decisions per second of time spent deciding (the policy's Choose), in this run.</summary>
    public double DecisionsPerSecond { get; init; }
    /// <summary>Wall-clock time of this method's whole simulation (load model and metrics included).</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>The per-interval series (one row per node and interval), with -Detail; empty otherwise.</summary>
    public IReadOnlyList<BalancerSample> Series { get; init; } = [];
}

/// <summary>One node at one sample of a simulated run (Measure-WbBalancer -Detail), for plotting elsewhere.</summary>
public sealed record BalancerSample
{
    public required string Method { get; init; }
    public DateTimeOffset Time { get; init; }
    public required string Node { get; init; }
    /// <summary>Online, Draining or Offline (failed); removed and not yet added nodes have no rows.</summary>
    public required string State { get; init; }
    public int Sessions { get; init; }
    public double Load5 { get; init; }
    public double LoadPerCore { get; init; }
    /// <summary>The cluster's imbalance at this sample (the same on every node's row).</summary>
    public double Imbalance { get; init; }
}
