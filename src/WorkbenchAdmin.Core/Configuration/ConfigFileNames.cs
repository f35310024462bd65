namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// File names offered for completion: the known files first, then other files present under the root;
/// never the secure-cookie-key, wherever rserver.conf puts it (<see cref="ConfigFileRoles"/>).
/// </summary>
public static class ConfigFileNames
{
    public static IEnumerable<string> Complete(ConfigRoot root, string? prefix)
    {
        prefix ??= "";
        var roles = ConfigFileRoles.Of(root);
        var present = Directory.Exists(root.Path)
            ? Directory.EnumerateFiles(root.Path).Select(Path.GetFileName).OfType<string>()
            : [];
        return ConfigFiles.Known.Concat(present.Order(StringComparer.Ordinal)).Distinct()
            .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && roles.IsConfiguration(n));
    }
}
