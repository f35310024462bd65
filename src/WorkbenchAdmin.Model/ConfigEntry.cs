namespace WorkbenchAdmin.Model;

/// <summary>One setting as Get-WbConfig shows it. Secrets are masked.</summary>
public sealed record ConfigEntry
{
    public required string File { get; init; }
    public string? Section { get; init; }
    /// <summary>
    /// Which of several sections of one name (or DCF blocks) the entry is in: the section's identifying value (a
    /// launcher.conf cluster's name, an R version's Path), else its place (#2); null where sections do not repeat.
    /// </summary>
    public string? Instance { get; init; }
    /// <summary>The kind of file, which says how Workbench reads it (rserver, launcher, profiles, r-versions, ...).</summary>
    public string? Kind { get; init; }
    public required string Key { get; init; }
    /// <summary>The value; null for a bare list item (legacy [nodes]); a mask for passwords.</summary>
    public string? Value { get; init; }
    public int Line { get; init; }
    public required string Path { get; init; }
}
