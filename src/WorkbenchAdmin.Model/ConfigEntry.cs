namespace WorkbenchAdmin.Model;

/// <summary>One setting as Get-WbConfig shows it. Secrets are masked.</summary>
public sealed record ConfigEntry
{
    public required string File { get; init; }
    public string? Section { get; init; }
    public required string Key { get; init; }
    /// <summary>The value; null for a bare list item (legacy [nodes]); a mask for passwords.</summary>
    public string? Value { get; init; }
    public int Line { get; init; }
    public required string Path { get; init; }
}
