using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Commands.Config;

public sealed record GetConfigRequest
{
    public string? ConfigRoot { get; init; }
    /// <summary>File names relative to the root, wildcards allowed; none means the four cluster files.</summary>
    public IReadOnlyList<string>? File { get; init; }
    /// <summary>Key patterns (wildcards); none means every key.</summary>
    public IReadOnlyList<string>? Key { get; init; }
    public string? Section { get; init; }
}

/// <summary>Get-WbConfig: the entries of one or all configuration files, in file order.</summary>
public static class GetConfigOperation
{
    public static void Run(GetConfigRequest request, ICommandHost host)
    {
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var keys = request.Key?.Select(k => new Wildcard(k)).ToList();
        foreach (var (fileName, explicitlyNamed) in FilesOf(root, request.File))
        {
            if (IsInternal(fileName))
            {
                host.WriteError(new WbException("ConfigFileNotReadable", WbErrorCategory.InvalidArgument,
                    $"'{fileName}' is not a key=value configuration file; the secure-cookie-key is never shown (Get-WbBalancer reports its hash).", fileName));
                continue;
            }
            ConfigDocument? doc;
            try { doc = root.TryLoad(fileName); }
            catch (WbException e) { host.WriteError(e); continue; }

            if (doc is null)
            {
                if (explicitlyNamed)
                    host.WriteError(new WbException("ConfigFileNotFound", WbErrorCategory.ObjectNotFound,
                        $"'{root.PathOf(fileName)}' does not exist.", root.PathOf(fileName)));
                else
                    host.WriteVerbose($"{root.PathOf(fileName)}: not present");
                continue;
            }

            host.WriteVerbose($"Read {doc.FilePath}: {doc.Entries.Count()} settings.");
            foreach (var line in doc.Entries)
            {
                if (request.Section is not null && !string.Equals(line.Section, request.Section, StringComparison.OrdinalIgnoreCase)) continue;
                if (!Wildcard.AnyMatch(keys, line.Key!)) continue;
                host.WriteObject(new ConfigEntry
                {
                    File = fileName,
                    Section = line.Section,
                    Key = line.Key!,
                    Value = MaskSecret(fileName, line.Key!, line.Value),
                    Line = line.Number,
                    Path = doc.FilePath,
                });
            }
        }
    }

    /// <summary>The files a request names: literal names as given, patterns against the directory, none = the known set.</summary>
    private static IEnumerable<(string Name, bool Explicit)> FilesOf(ConfigRoot root, IReadOnlyList<string>? requested)
    {
        if (requested is null || requested.Count == 0)
        {
            foreach (var known in ConfigFiles.Known) yield return (known, false);
            yield break;
        }
        foreach (var name in requested)
        {
            if (!Wildcard.HasWildcards(name)) { yield return (name, true); continue; }
            var pattern = new Wildcard(name);
            var present = Directory.Exists(root.Path)
                ? Directory.EnumerateFiles(root.Path).Select(System.IO.Path.GetFileName).Where(n => n is not null && pattern.IsMatch(n) && !IsInternal(n))
                : [];
            foreach (var match in present.Order(StringComparer.Ordinal)) yield return (match!, false);
        }
    }

    private static bool IsInternal(string name) => !ConfigFiles.IsConfiguration(name);

    /// <summary>Passwords never leave the core as text; a connection URI keeps everything but its password.</summary>
    internal static string? MaskSecret(string fileName, string key, string? value)
    {
        if (value is null || System.IO.Path.GetFileName(fileName) != ConfigFiles.Database) return value;
        if (key == "password") return value.Length == 0 ? value : SecretValue.Mask;
        if (key == "connection-uri") return PostgresConnectionUri.MaskPassword(value);
        return value;
    }
}
