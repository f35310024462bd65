namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// A kind of file under /etc/rstudio: which names it has, the reader Workbench puts it through, and which of its
/// keys are a node's own address, secrets or multi-valued. <see cref="ConfigFileKinds"/> is the one registry.
/// </summary>
/// <param name="Name">A short, stable name (shown as <c>Kind</c> by Get-WbConfig).</param>
/// <param name="Rule">How Workbench reads it, in a sentence.</param>
/// <param name="Dialect">The reader; null for a file that is not read as settings (compared byte for byte).</param>
public sealed record ConfigFileKind(string Name, string Rule, ConfigDialect? Dialect)
{
    /// <summary>Keys that are the node's own address and may differ between nodes (the guide's exception).</summary>
    public IReadOnlySet<string> AddressKeys { get; init; } = new HashSet<string>();
    /// <summary>Keys whose values are never shown.</summary>
    public IReadOnlySet<string> SecretKeys { get; init; } = new HashSet<string>();
    /// <summary>The key that names a section or block that repeats (a cluster's <c>name</c>, an R version's <c>Path</c>).</summary>
    public string? IdentityKey { get; init; }
    /// <summary>A file that is a secret as a whole (a private key): never read, listed or shown; compared only by hash.</summary>
    public bool Secret { get; init; }

    /// <summary>Whether Get-WbConfig reads it into settings.</summary>
    public bool IsRead => Dialect is not null && !Secret;

    /// <summary>Which repeat of a section this is, as a reader tells it: its identity key's value, else its place.</summary>
    public string? InstanceOf(ConfigDocument doc, ConfigSection section)
    {
        var repeatable = section.Name is null ? doc.Dialect.Syntax == ConfigSyntax.Dcf : doc.Dialect.RepeatableSections.Contains(section.Name);
        if (!repeatable) return null;
        var same = doc.Sections().Where(s => s.Name == section.Name).ToList();
        if (same.Count < 2 && doc.Dialect.Syntax != ConfigSyntax.Dcf) return null;
        var identity = IdentityKey is null ? null : section.Get(IdentityKey);
        if (identity is null && section.Entries.FirstOrDefault(e => e.Kind == ConfigLineKind.ListItem) is { } item) identity = item.Key;
        return !string.IsNullOrEmpty(identity) ? identity : $"#{same.FindIndex(s => s.Instance == section.Instance) + 1}";
    }
}

/// <summary>
/// Every kind of file under /etc/rstudio this module knows, and the rule each follows (from Workbench's open source
/// and Posit's admin guide; where they are silent the choice is said in the rule). The first kind whose name or
/// pattern matches wins; a file of no kind is <see cref="Other"/>.
/// </summary>
public static class ConfigFileKinds
{
    private static HashSet<string> Set(params string[] keys) => new(keys, StringComparer.Ordinal);

    /// <summary>rserver.conf's multitoken options (server-options.json's isMultitoken): boost adds up their values.</summary>
    public static readonly IReadOnlySet<string> RServerMultiValued = Set("server-add-header", "www-allow-origin");

    public static readonly ConfigFileKind RServer = new("rserver",
        "boost program_options config file: '#' starts a comment anywhere, ';' in the first column too; [a] makes keys a.key; a key twice refuses to start (but server-add-header, www-allow-origin); an unknown option refuses to start",
        ConfigDialect.Standard with { MultiValuedKeys = RServerMultiValued })
    { AddressKeys = Set("www-address", "www-port") };

    public static readonly ConfigFileKind Options = new("options",
        "boost program_options config file, as rserver.conf (rsession.conf, jupyter.conf, vscode.conf, positron.conf, launcher plugin files)",
        ConfigDialect.Standard);

    public static readonly ConfigFileKind Launcher = new("launcher",
        "[server] once and [cluster] once per cluster, each addressed by its name; lines read by boost's rules (the Job Launcher's reader is not public: our choice)",
        ConfigDialect.Launcher)
    { IdentityKey = "name" };

    public static readonly ConfigFileKind Logging = new("logging",
        "boost read_ini (ConfigProfile): [*], [@program] and per-logger sections; whole-line '#' or ';' comments; a section or a key twice is an error",
        ConfigDialect.Ini);

    public static readonly ConfigFileKind Profiles = new("profiles",
        "boost read_ini (ConfigProfile): [*], [@group] and [user] sections, the same key in many sections; whole-line comments; a section or a key twice is an error",
        ConfigDialect.Ini);

    public static readonly ConfigFileKind LoadBalancer = new("load-balancer",
        "key=value by boost's rules (Workbench's reader is not public); the pre-2021.09 form has [config] and a [nodes] list of hosts",
        ConfigDialect.LoadBalancer)
    { AddressKeys = Set("www-host-name") };

    public static readonly ConfigFileKind Database = new("database",
        "Workbench's key=value reader (core::Settings): whole-line '#' comments only, a '#' after '=' belongs to the value",
        ConfigDialect.Database)
    { SecretKeys = Set("password", "connection-uri") };

    public static readonly ConfigFileKind KeyValue = new("key=value",
        "key=value lines, whole-line '#' comments (env-vars, repos.conf, file-locks; Workbench's readers are not public: our choice, as database.conf)",
        ConfigDialect.Database);

    public static readonly ConfigFileKind OpenIdSecret = KeyValue with { Name = "openid-client", SecretKeys = Set("client-secret") };

    public static readonly ConfigFileKind RVersions = new("r-versions",
        "rstudio's DCF reader: blocks of Path:/Label:/Module:/Script:/Repo: separated by blank lines; or one R home per line",
        ConfigDialect.RVersions)
    { IdentityKey = "Path" };

    public static readonly ConfigFileKind Notifications = new("notifications",
        "rstudio's DCF reader: blocks of StartTime:/EndTime:/Message: separated by blank lines",
        ConfigDialect.Dcf)
    { IdentityKey = "StartTime" };

    public static readonly ConfigFileKind LauncherEnv = new("launcher-dcf",
        "DCF blocks (launcher-env: JobType:/Environment: with indented continuation lines; launcher-mounts: MountType:/MountPath: ...)",
        ConfigDialect.Dcf);

    public static readonly ConfigFileKind Extensions = new("list",
        "one extension per line; blank lines and '#' comments aside",
        ConfigDialect.List);

    public static readonly ConfigFileKind PrivateKey = new("secret",
        "a private key or secret: never read, listed or shown; compared between nodes by hash only", null)
    { Secret = true };

    public static readonly ConfigFileKind Document = new("document",
        "not key=value (HTML, JSON, a template, a script): listed with its kind, compared byte for byte, never parsed", null);

    public static readonly ConfigFileKind Other = new("other",
        "a file of no known kind: listed, compared byte for byte, not parsed (so never called malformed)", null);

    /// <summary>Name patterns ('*' matches any run of characters) in the order they are tried.</summary>
    public static readonly IReadOnlyList<(string Pattern, ConfigFileKind Kind)> Registry =
    [
        (ConfigFiles.RServer, RServer),
        (ConfigFiles.Launcher, Launcher),
        (ConfigFiles.Database, Database),
        (ConfigFiles.LoadBalancer, LoadBalancer),
        ("logging.conf", Logging),
        ("profiles", Profiles),
        ("*.profiles.conf", Profiles),
        ("r-versions", RVersions),
        ("notifications.conf", Notifications),
        ("launcher-env", LauncherEnv),
        ("launcher-mounts", LauncherEnv),
        ("*.extensions.conf", Extensions),
        ("env-vars", KeyValue),
        ("repos.conf", KeyValue),
        ("file-locks", KeyValue),
        ("openid-client-secret", OpenIdSecret),
        (ConfigFiles.SecureCookieKey, PrivateKey),
        ("launcher.pem", PrivateKey),
        ("*.pem", PrivateKey),
        ("*.key", PrivateKey),
        ("login.html", Document),
        ("*.html", Document),
        ("*.json", Document),
        ("health-check", Document),
        ("rsession-profile", Document),
        ("nginx.*.conf", Document),
        ("launcher.pub", Document),
        ("rsession.conf", Options),
        ("jupyter.conf", Options),
        ("vscode.conf", Options),
        ("positron.conf", Options),
        ("launcher.*.conf", Options),
        (ModuleSettings.FileName, Options),
        ("*.conf", Options),
    ];

    /// <summary>The kind of a file, by its name.</summary>
    public static ConfigFileKind Of(string fileName)
    {
        var name = Path.GetFileName(fileName);
        foreach (var (pattern, kind) in Registry)
            if (Matches(pattern, name)) return kind;
        return Other;
    }

    /// <summary>Every kind, once, in registry order.</summary>
    public static IEnumerable<ConfigFileKind> All => Registry.Select(r => r.Kind).Append(Other).Distinct();

    private static bool Matches(string pattern, string name)
    {
        var star = pattern.IndexOf('*');
        if (star < 0) return string.Equals(pattern, name, StringComparison.Ordinal);
        var head = pattern[..star];
        var tail = pattern[(star + 1)..];
        return name.Length > head.Length + tail.Length && name.StartsWith(head, StringComparison.Ordinal) && name.EndsWith(tail, StringComparison.Ordinal);
    }
}
