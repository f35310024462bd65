namespace WorkbenchAdmin.Core.Configuration;

/// <summary>File names offered for completion: the known files first, then other files present under the root.</summary>
public static class ConfigFileNames
{
    public static IEnumerable<string> Complete(ConfigRoot root, string? prefix)
    {
        prefix ??= "";
        var present = Directory.Exists(root.Path)
            ? Directory.EnumerateFiles(root.Path).Select(Path.GetFileName).OfType<string>()
                .Where(ConfigFiles.IsConfiguration)
            : [];
        return ConfigFiles.Known.Concat(present.Order(StringComparer.Ordinal)).Distinct()
            .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
    }
}
