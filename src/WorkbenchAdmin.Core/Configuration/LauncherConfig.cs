namespace WorkbenchAdmin.Core.Configuration;

/// <summary>One <c>[cluster]</c> section of launcher.conf: a cluster the launcher runs jobs on.</summary>
/// <param name="Name">Its <c>name</c> (how rserver.conf's launcher-default-cluster and the sessions address it); null when unset.</param>
/// <param name="Line">The line of its header.</param>
public sealed record LauncherCluster(string? Name, string? Type, int Line);

/// <summary>
/// launcher.conf: the <c>[server]</c> section the checks read (the launcher's own address and port), and every
/// <c>[cluster]</c> section, each a cluster of its own.
/// </summary>
public sealed record LauncherConfig
{
    public const string Section = "server";
    public const string ClusterSection = "cluster";

    public bool FilePresent { get; init; }
    /// <summary>Packages ship <c>address=localhost</c>; a cluster needs an address the other nodes reach (the guide uses 0.0.0.0).</summary>
    public string Address { get; init; } = "localhost";
    public int Port { get; init; } = RServerConfig.DefaultLauncherPort;
    public bool EnableSsl { get; init; }
    public string ServerUser { get; init; } = "rstudio-server";
    public string? AdminGroup { get; init; }
    public bool HasServerSection { get; init; }
    /// <summary>The <c>[cluster]</c> sections in file order.</summary>
    public IReadOnlyList<LauncherCluster> Clusters { get; init; } = [];

    public static LauncherConfig Load(ConfigRoot root) => From(root.TryLoad(ConfigFiles.Launcher));

    public static LauncherConfig From(ConfigDocument? doc) => new()
    {
        FilePresent = doc is not null,
        Address = ConfigValues.String(doc, Section, "address") ?? "localhost",
        Port = ConfigValues.Int(doc, Section, "port", 1, 65535) ?? RServerConfig.DefaultLauncherPort,
        EnableSsl = ConfigValues.Bool(doc, Section, "enable-ssl") ?? false,
        ServerUser = ConfigValues.String(doc, Section, "server-user") ?? "rstudio-server",
        AdminGroup = ConfigValues.String(doc, Section, "admin-group"),
        HasServerSection = doc?.HasSection(Section) == true,
        Clusters = doc is null ? [] : ClustersOf(doc),
    };

    private static List<LauncherCluster> ClustersOf(ConfigDocument doc)
    {
        var clusters = doc.Sections(ClusterSection).Select(s => new LauncherCluster(NullIfEmpty(s.Get("name")), NullIfEmpty(s.Get("type")), s.Header!.Number)).ToList();
        // Two clusters of one name cannot both be addressed: the launcher could not tell which one a job is for.
        foreach (var twice in clusters.Where(c => c.Name is not null).GroupBy(c => c.Name).Where(g => g.Count() > 1))
        {
            var second = twice.ElementAt(1);
            throw new ConfigFormatException(doc.FilePath, second.Line, 1, "name",
                $"a second [cluster] named {ConfigFormatException.NameOrNull(twice.Key) ?? "the same"} (first on line {twice.First().Line}): each cluster needs a name of its own");
        }
        return clusters;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
