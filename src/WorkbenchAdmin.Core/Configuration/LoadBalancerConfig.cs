namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// The load-balancer file. Keys may stand before any section or in <c>[config]</c> (older docs put them
/// there); the legacy <c>[nodes]</c> section lists hosts one per line.
/// </summary>
public sealed record LoadBalancerConfig
{
    public const string ConfigSection = "config";
    public const string NodesSection = "nodes";
    public const string DefaultMethod = "sessions";
    public const string DefaultCustomScript = "/usr/lib/rstudio-server/bin/rserver-balancer";
    /// <summary>
    /// Keys earlier versions of this module wrote here, though Workbench does not document them; read only to
    /// migrate them (Set-WbBalancer moves them to <see cref="ModuleSettings"/>), never written.
    /// </summary>
    public static readonly IReadOnlyList<string> LegacyModuleKeys = [ModuleSettings.CustomScriptKey, ModuleSettings.UseIpAddressKey];

    public bool FilePresent { get; init; }
    public string Method { get; init; } = DefaultMethod;
    /// <summary>"file:line" the method was read from; null when it is the default.</summary>
    public string? MethodSource { get; init; }
    public string? WwwHostName { get; init; }
    public bool DeleteNodeOnExit { get; init; }
    /// <summary>A legacy <c>custom-balancer-script</c> here (see <see cref="LegacyModuleKeys"/>); null when absent.</summary>
    public string? LegacyCustomScriptPath { get; init; }
    /// <summary>A legacy <c>balancer-use-ip-address</c> here (see <see cref="LegacyModuleKeys"/>); null when absent.</summary>
    public bool? LegacyUseIpAddress { get; init; }
    public bool HasLegacyModuleKeys => LegacyCustomScriptPath is not null || LegacyUseIpAddress is not null;
    /// <summary>Hosts listed in the legacy <c>[nodes]</c> section (no longer used by Workbench).</summary>
    public IReadOnlyList<string> LegacyNodes { get; init; } = [];
    /// <summary>True when a key was found only under <c>[config]</c>.</summary>
    public bool UsesConfigSection { get; init; }
    /// <summary>The pre-2021.09 form: a <c>[config]</c> or <c>[nodes]</c> section (<see cref="MigrateLegacy"/> turns it into the current one).</summary>
    public bool LegacyForm { get; init; }

    /// <summary>Whether the node balances: load-balancing-enabled in rserver.conf decides; unset, this file's presence does (the legacy way).</summary>
    public LoadBalancingState State(RServerConfig rserver) => rserver.LoadBalancingEnabled switch
    {
        true => LoadBalancingState.Enabled,
        false => LoadBalancingState.Disabled,
        null => FilePresent ? LoadBalancingState.LegacyFileOnly : LoadBalancingState.Disabled,
    };

    public static LoadBalancerConfig Load(ConfigRoot root) => From(root.TryLoad(ConfigFiles.LoadBalancer));

    public static LoadBalancerConfig From(ConfigDocument? doc)
    {
        if (doc is null) return new LoadBalancerConfig();
        var usesConfig = false;
        ConfigLine? Find(string key)
        {
            var line = doc.Find(null, key);
            if (line is not null) return line;
            line = doc.Find(ConfigSection, key);
            usesConfig |= line is not null;
            return line;
        }

        var methodLine = Find("balancer");
        var method = DefaultMethod;
        if (!string.IsNullOrEmpty(methodLine?.Value))
        {
            method = methodLine.Value.ToLowerInvariant();
            if (!BalancingMethods.IsKnown(method))
                throw ConfigFormatException.AtValue(doc.FilePath, methodLine, $"must be one of {string.Join(", ", BalancingMethods.Names)}");
        }

        bool Flag(string key)
        {
            var line = Find(key);
            return line is not null && ConfigValues.Bool(doc, line.Section, key) == true;
        }

        return new LoadBalancerConfig
        {
            FilePresent = true,
            Method = method,
            MethodSource = methodLine is null || string.IsNullOrEmpty(methodLine.Value) ? null : $"{doc.FilePath}:{methodLine.Number}",
            WwwHostName = NullIfEmpty(Find("www-host-name")?.Value),
            DeleteNodeOnExit = Flag("delete-node-on-exit"),
            LegacyCustomScriptPath = NullIfEmpty(Find(ModuleSettings.CustomScriptKey)?.Value),
            LegacyUseIpAddress = Find(ModuleSettings.UseIpAddressKey) is null ? null : Flag(ModuleSettings.UseIpAddressKey),
            LegacyNodes = doc.Lines.Where(l => l.Kind == ConfigLineKind.ListItem && l.Section == NodesSection).Select(l => l.Key!).ToList(),
            UsesConfigSection = usesConfig,
            LegacyForm = doc.HasSection(ConfigSection) || doc.HasSection(NodesSection),
        };
    }

    /// <summary>
    /// Turns a pre-2021.09 load-balancer into the current form: the keys of <c>[config]</c> move before any section
    /// (where a key is already set there, that one stays: it is the one in effect), and the <c>[config]</c> and
    /// <c>[nodes]</c> sections go (nodes now join through the database). What it did, for ShouldProcess and -Verbose.
    /// </summary>
    public static List<ConfigChangeResult> MigrateLegacy(ConfigDocument doc)
    {
        var results = new List<ConfigChangeResult>();
        foreach (var line in doc.Entries.Where(l => l.Kind == ConfigLineKind.Entry && l.Section == ConfigSection).ToList())
        {
            if (doc.Find(null, line.Key!) is null)
            {
                doc.Set(null, line.Key!, line.Value!);
                results.Add(new ConfigChangeResult(null, line.Key!, null, line.Value));
            }
        }
        if (doc.RemoveSection(ConfigSection)) results.Add(new ConfigChangeResult(ConfigSection, "(legacy section, keys moved to the top)", null, null));
        var nodes = doc.Lines.Count(l => l.Kind == ConfigLineKind.ListItem && l.Section == NodesSection);
        if (doc.RemoveSection(NodesSection)) results.Add(new ConfigChangeResult(NodesSection, $"(legacy list of {nodes} node{(nodes == 1 ? "" : "s")}; nodes join through the database)", null, null));
        return results;
    }

    /// <summary>The section a new or changed key belongs in: where the file already keeps it, else [config] if the file uses that section.</summary>
    public static string? SectionFor(ConfigDocument doc, string key)
    {
        if (doc.Find(null, key) is not null) return null;
        if (doc.Find(ConfigSection, key) is not null || doc.HasSection(ConfigSection)) return ConfigSection;
        return null;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
