namespace WorkbenchAdmin.Model;

public enum CheckStatus
{
    Pass,
    Warn,
    /// <summary>Failed, or could not be made (<see cref="CheckResult.Found"/> then starts "could not be checked:").</summary>
    Fail,
    /// <summary>Does not apply (no spec, no home root given); <see cref="CheckResult.Found"/> says why. Never "could not check".</summary>
    Skip,
}

/// <summary>One check on one target: what was found, what was expected, and how to fix it.</summary>
public sealed record CheckResult
{
    public required string CheckId { get; init; }
    /// <summary>The area tag: config, database, security, storage, network, cluster, spec.</summary>
    public required string Area { get; init; }
    /// <summary>The node (address or configuration root) or "cluster".</summary>
    public required string Target { get; init; }
    public required CheckStatus Status { get; init; }
    public required string Found { get; init; }
    public string Expected { get; init; } = "";
    /// <summary>What to do; empty on a pass.</summary>
    public string Fix { get; init; } = "";

    public override string ToString() => $"[{Status}] {CheckId} {Target}: {Found}{(Fix.Length > 0 ? " — " + Fix : "")}";
}
