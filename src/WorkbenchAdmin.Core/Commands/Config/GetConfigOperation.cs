using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Formats;

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
        var roles = ConfigFileRoles.Of(root);
        var keys = request.Key?.Select(k => new Wildcard(k)).ToList();
        foreach (var (fileName, explicitlyNamed) in FilesOf(root, roles, request.File))
        {
            if (roles.WhyNotConfiguration(fileName) is { } why)
            {
                host.WriteError(new WbException("ConfigFileNotReadable", WbErrorCategory.InvalidArgument, why, fileName));
                continue;
            }
            var kind = roles.KindOf(fileName);
            if (kind.Secret)
            {
                host.WriteError(new WbException("ConfigFileNotReadable", WbErrorCategory.InvalidArgument,
                    $"'{fileName}' is a {kind.Name} file ({kind.Rule}).", fileName));
                continue;
            }
            if (!kind.IsRead)
            {
                // Not key=value (login.html, a JSON file, a template): Workbench does not read it as settings, so neither do we.
                if (root.Exists(fileName)) host.WriteVerbose($"{root.PathOf(fileName)}: kind {kind.Name} ({kind.Rule}); no settings to list.");
                else if (explicitlyNamed)
                    host.WriteError(new WbException("ConfigFileNotFound", WbErrorCategory.ObjectNotFound, $"'{root.PathOf(fileName)}' does not exist.", root.PathOf(fileName)));
                continue;
            }
            ConfigDocument? doc;
            try { doc = root.TryLoad(fileName, roles.DialectOf(fileName)); }
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

            host.WriteVerbose($"Read {doc.FilePath} (kind {kind.Name}: {kind.Rule}): {doc.Entries.Count()} settings.");
            var instances = doc.Sections().ToDictionary(s => s.Instance, s => kind.InstanceOf(doc, s));
            foreach (var line in doc.Entries)
            {
                if (request.Section is not null && !string.Equals(line.Section, request.Section, StringComparison.OrdinalIgnoreCase)) continue;
                if (!Wildcard.AnyMatch(keys, line.Key!)) continue;
                host.WriteObject(new ConfigEntry
                {
                    File = fileName,
                    Section = line.Section,
                    Instance = instances.GetValueOrDefault(line.Instance),
                    Kind = kind.Name,
                    Key = line.Key!,
                    Value = roles.Mask(fileName, line.Key!, line.Value),
                    Line = line.Number,
                    Path = doc.FilePath,
                });
            }
        }
    }

    /// <summary>The files a request names: literal names as given, patterns against the directory (configuration only), none = the known set.</summary>
    private static IEnumerable<(string Name, bool Explicit)> FilesOf(ConfigRoot root, ConfigFileRoles roles, IReadOnlyList<string>? requested)
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
                ? Directory.EnumerateFiles(root.Path).Select(System.IO.Path.GetFileName).Where(n => n is not null && pattern.IsMatch(n) && roles.IsConfiguration(n))
                : [];
            foreach (var match in present.Order(StringComparer.Ordinal)) yield return (match!, false);
        }
    }
}
