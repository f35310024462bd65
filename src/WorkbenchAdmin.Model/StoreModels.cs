namespace WorkbenchAdmin.Model;

/// <summary>Node statuses as <c>rstudio-server list-nodes</c> shows them, plus ours for a protocol mismatch.</summary>
public static class NodeStatus
{
    public const string Online = "Online";
    public const string Offline = "Offline";
    public const string InvalidKey = "Invalid secure cookie key";
    public const string ProtocolMismatch = "Protocol mismatch";
}

/// <summary>A node as Get-WbNode shows it.</summary>
public sealed record NodeInfo
{
    public int Id { get; init; }
    public required string Host { get; init; }
    public string? IPv4Address { get; init; }
    public int Port { get; init; }
    public string Address => NodeCandidate.FormatAddress(Host, Port);
    /// <summary>Online, Offline (no heartbeat within the timeout), Invalid secure cookie key, or Protocol mismatch.</summary>
    public required string Status { get; init; }
    public DateTimeOffset LastSeen { get; init; }
    /// <summary>Since when the node is drained (Suspend-WbNode): it takes no new sessions; null when it takes them.</summary>
    public DateTimeOffset? DrainingSince { get; init; }
    public bool Draining => DrainingSince is not null;
    /// <summary>When the node first joined (a later Register-WbNode keeps it).</summary>
    public DateTimeOffset RegisteredAt { get; init; }
    public double Load1 { get; init; }
    public double Load5 { get; init; }
    public double Load15 { get; init; }
    public int? Cores { get; init; }
    public int ActiveSessions { get; init; }
    public string? Protocol { get; init; }
    public string? Version { get; init; }
    /// <summary>The node's own clock at its last heartbeat.</summary>
    public DateTimeOffset? NodeClock { get; init; }
    /// <summary>Node clock minus the database's clock at that heartbeat.</summary>
    public TimeSpan? ClockSkew => NodeClock is { } c ? c - LastSeen : null;
    public bool Online => Status == NodeStatus.Online;
    /// <summary>This node as a balancing candidate, so Get-WbNode output pipes into Invoke-WbBalanceDecision.</summary>
    public NodeCandidate Candidate => new()
    {
        Id = Id, Host = Host, IPv4Address = IPv4Address, Port = Port, Online = Online, Draining = Draining,
        ActiveSessions = ActiveSessions, Load1 = Load1, Load5 = Load5, Load15 = Load15, Cores = Cores,
    };
}

/// <summary>A session as Get-WbSession and New-WbSession show it.</summary>
public sealed record SessionInfo
{
    public long Id { get; init; }
    public int NodeId { get; init; }
    public required string Node { get; init; }
    public int Pid { get; init; }
    public required string UserName { get; init; }
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset? Ended { get; init; }
    public bool Active => Ended is null;
    /// <summary>For a session New-WbSession just placed: the decision that placed it.</summary>
    public BalanceDecision? Decision { get; init; }
}

/// <summary>One session line of /load-balancer/status.</summary>
public sealed record SessionEntry(int Pid, string UserName);

/// <summary>One node block of /load-balancer/status: its load averages and its sessions.</summary>
public sealed record NodeSessionLoad
{
    public int? NodeId { get; init; }
    /// <summary>host:port as the status page prints it.</summary>
    public required string Address { get; init; }
    public double Load1 { get; init; }
    public double Load5 { get; init; }
    public double Load15 { get; init; }
    public string? Status { get; init; }
    public int SessionCount { get; init; }
    /// <summary>The sessions; empty in a summary.</summary>
    public IReadOnlyList<SessionEntry> Sessions { get; init; } = [];
}

/// <summary>Status names for completion.</summary>
public static class NodeStatuses
{
    public static readonly IReadOnlyList<string> All = [NodeStatus.Online, NodeStatus.Offline, NodeStatus.InvalidKey, NodeStatus.ProtocolMismatch];

    public static IEnumerable<string> Complete(string? prefix) =>
        Completion.StartingWith(All, prefix);
}
