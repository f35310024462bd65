namespace WorkbenchAdmin.Model;

/// <summary>
/// How the module's balancer program decides, as Get-WbBalancerPolicy shows it: the <c>[balancer]</c>
/// section of the configuration root's <c>workbenchadmin.conf</c> (a file Workbench never reads), and
/// whether the program is installed where Workbench's <c>custom</c> method runs it.
/// </summary>
public sealed record BalancerPolicy
{
    public const string DefaultMethod = BalancingMethods.Sessions;
    public const int DefaultDeadlineMs = 1000;
    public const string DefaultStateDirectory = "/var/lib/workbenchadmin";
    /// <summary>Where the decision service listens (its systemd unit makes /run/workbenchadmin, root-only).</summary>
    public const string DefaultServiceSocket = "/run/workbenchadmin/balancer.sock";
    public const int DefaultStoreMaxAgeMs = 1000;

    public required string ConfigRoot { get; init; }
    /// <summary>The module's settings file holding the policy.</summary>
    public required string Path { get; init; }
    public bool FilePresent { get; init; }
    public string Method { get; init; } = DefaultMethod;
    /// <summary>A node with this many active sessions takes no more; null for no limit.</summary>
    public int? MaxSessionsPerNode { get; init; }
    /// <summary>
    /// The policies' own options, by cmdlet parameter name (bounded-hash's BalanceFactor: no node above this factor × the
    /// average), each null when not set (the policy's default). The cmdlets show each as a property of its own.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Options { get; init; } = new Dictionary<string, object?>();
    /// <summary>Keep a user on a node where they already run sessions, while it is eligible.</summary>
    public bool Sticky { get; init; }
    /// <summary>Longest a decision may take, data reads included; past it the program falls back.</summary>
    public int DeadlineMs { get; init; } = DefaultDeadlineMs;
    /// <summary>The status page the program reads live sessions and loads from.</summary>
    public required string StatusUri { get; init; }
    /// <summary>Where the program keeps its record of drained nodes, for when the store does not answer.</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory;
    /// <summary>
    /// The Unix socket of the decision service (<c>rserver-balancer --serve</c>), which the program asks first: a
    /// long-lived process with the store's connections open decides in a millisecond where a new connection per
    /// call costs most of the program's time. Without a service there, the program reads and decides itself.
    /// </summary>
    public string ServiceSocket { get; init; } = DefaultServiceSocket;
    /// <summary>
    /// How old the store's view may be when the program decides without the service: it keeps the view it read in
    /// <see cref="StateDirectory"/> and uses it for this long instead of opening a database connection per session
    /// (the status page is still read live). A drain takes effect within it. 0: read the store for every decision.
    /// </summary>
    public int StoreMaxAgeMs { get; init; } = DefaultStoreMaxAgeMs;
    /// <summary>A decision service answers at <see cref="ServiceSocket"/>: null when nothing is there, false when something is but does not answer.</summary>
    public bool? ServiceAnswering { get; init; }
    /// <summary>Sessions the answering service placed since it started (its metrics); null when no service answers.</summary>
    public long? ServiceDecisions { get; init; }
    /// <summary>Of those, the decisions that fell back to consistent-hash (no live data, a method that could not judge, a refused policy).</summary>
    public long? ServiceFallbacks { get; init; }
    /// <summary>Calls the answering service refused since it started (no node could take the session, or a bad call).</summary>
    public long? ServiceRefusals { get; init; }
    /// <summary>Where Workbench runs the custom balancer (and where Install-WbBalancer puts the program).</summary>
    public string? ProgramPath { get; init; }
    /// <summary>The program at <see cref="ProgramPath"/> is this module's balancer, byte for byte.</summary>
    public bool ProgramInstalled { get; init; }
    /// <summary>load-balancer says <c>balancer=custom</c>, so Workbench runs the program.</summary>
    public bool BalancerIsCustom { get; init; }
    /// <summary>
    /// Why the balancer program does not decide with this file's policy (not safe to read, or a value in it is invalid),
    /// and what it does instead; null when it uses it. Then <see cref="Method"/> is the fallback the program applies and
    /// the other settings those it still honours.
    /// </summary>
    public string? Refused { get; init; }
    /// <summary>The policy is refused in a way that leaves MaxSessionsPerNode unknown: the program refuses every session rather than risk overloading a node.</summary>
    public bool RefusesSessions { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
