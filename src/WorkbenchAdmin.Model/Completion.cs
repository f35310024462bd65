namespace WorkbenchAdmin.Model;

/// <summary>A tab completion: the text to insert and a tooltip.</summary>
public readonly record struct Completion(string Text, string Tooltip)
{
    /// <summary>The words starting with <paramref name="prefix"/> (case-insensitive), in their order: every fixed list's completion.</summary>
    public static IEnumerable<string> StartingWith(IEnumerable<string> words, string? prefix) =>
        words.Where(w => w.StartsWith(prefix ?? "", StringComparison.OrdinalIgnoreCase));
}
