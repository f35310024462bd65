namespace WorkbenchAdmin.Model;

/// <summary>One run of a balancer script against one user and one node list.</summary>
public sealed record BalancerScriptTestResult
{
    public required string ScriptPath { get; init; }
    public required string UserName { get; init; }
    /// <summary>RSTUDIO_NODES as the script received it.</summary>
    public required string Nodes { get; init; }
    public bool Passed { get; init; }
    /// <summary>The node it chose, when it honoured the contract.</summary>
    public string? Chosen { get; init; }
    /// <summary>The contract it broke (NotFound, Timeout, UnknownNode, …), or null.</summary>
    public string? Failure { get; init; }
    public string? Message { get; init; }
    public TimeSpan Duration { get; init; }
    public double DurationMilliseconds => Duration.TotalMilliseconds;
}
