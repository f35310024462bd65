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

    /// <summary>The method name as Workbench spells it (trimmed, lower case); InvalidBalancingMethod when it is none.</summary>
    public static string Normalize(string? method)
    {
        var name = method?.Trim().ToLowerInvariant() ?? "";
        if (!IsKnown(name))
            throw new WbException("InvalidBalancingMethod", WbErrorCategory.InvalidArgument,
                $"-Method '{SafeText.Quote(method)}' is not a balancing method; use one of {string.Join(", ", Names)}.", method);
        return name;
    }

    /// <summary>Names starting with <paramref name="prefix"/> (case-insensitive), for tab completion.</summary>
    public static IEnumerable<string> Complete(string? prefix) =>
        Completion.StartingWith(Names, prefix);
}
