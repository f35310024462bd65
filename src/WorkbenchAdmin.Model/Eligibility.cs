namespace WorkbenchAdmin.Model;

/// <summary>The one rule of which nodes may take a new session, whatever the balancing method.</summary>
public static class Eligibility
{
    public const string Offline = "offline", Draining = "draining", Full = "full";

    /// <summary>Null when the node may take a session; else why not: offline, draining, or full (at the per-node limit).</summary>
    public static string? WhyLeftOut(bool online, bool draining, int activeSessions, int? maxSessionsPerNode) =>
        !online ? Offline : draining ? Draining : maxSessionsPerNode is { } max && activeSessions >= max ? Full : null;
}
