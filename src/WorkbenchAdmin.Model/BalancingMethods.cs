namespace WorkbenchAdmin.Model;

/// <summary>The balancing method names Workbench accepts for <c>balancer=</c>.</summary>
public static class BalancingMethods
{
    public const string Sessions = "sessions";
    public const string SystemLoad = "system-load";
    public const string UserHash = "user-hash";
    public const string Custom = "custom";

    public static readonly IReadOnlyList<string> Names = [Sessions, SystemLoad, UserHash, Custom];

    public static bool IsKnown(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>Names starting with <paramref name="prefix"/> (case-insensitive), for tab completion.</summary>
    public static IEnumerable<string> Complete(string? prefix) =>
        Names.Where(n => n.StartsWith(prefix ?? "", StringComparison.OrdinalIgnoreCase));
}
