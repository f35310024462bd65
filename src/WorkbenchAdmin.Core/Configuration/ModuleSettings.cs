namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// The module's own settings for a configuration root: <c>workbenchadmin.conf</c> beside Workbench's files.
/// Workbench never reads it, so keys Workbench does not document live here and never in its files:
/// the custom script and the IP-address option that Invoke-WbBalanceDecision and New-WbSession use to
/// play Workbench's <c>custom</c> method, and the <c>[balancer]</c> policy of the module's balancer program.
/// The policy's own values (the method and each policy's options) are kept raw here: what they may be is the
/// policies' to say (Balancing, a layer above), see BalancingPolicies.Checked.
/// </summary>
public sealed record ModuleSettings
{
    public const string FileName = "workbenchadmin.conf";
    public const string BalancerSection = "balancer";
    public const string CustomScriptKey = "custom-balancer-script";
    public const string UseIpAddressKey = "balancer-use-ip-address";

    public const string MethodKey = "method";
    public const string MaxSessionsKey = "max-sessions-per-node";
    public const string StickyKey = "sticky";
    public const string DeadlineKey = "deadline-ms";
    public const string StatusUrlKey = "status-url";
    public const string StateDirectoryKey = "state-directory";
    public const string ServiceSocketKey = "service-socket";
    public const string StoreMaxAgeKey = "store-max-age-ms";

    public const int MinDeadlineMs = 50;
    public const int MaxDeadlineMs = 60_000;
    public const int MaxStoreMaxAgeMs = 60_000;

    public bool FilePresent { get; init; }
    public required string FilePath { get; init; }
    public string? CustomScriptPath { get; init; }
    public bool? UseIpAddress { get; init; }
    public required BalancerPolicy Balancer { get; init; }
    /// <summary>The file as read (null when absent), for the policies to read and check their own keys in.</summary>
    public ConfigDocument? Document { get; init; }

    public static ModuleSettings Load(ConfigRoot root) =>
        From(root.TryLoad(FileName, ConfigDialect.Standard), root, RServerConfig.Load(root));

    /// <param name="errors">
    /// When given, a bad value does not stop the reading: it is added here, keyed by its setting, and that setting
    /// keeps its default (the balancer program, refusing such a file, still honours what the rest of it says).
    /// </param>
    public static ModuleSettings From(ConfigDocument? doc, ConfigRoot root, RServerConfig rserver, IDictionary<string, ConfigFormatException>? errors = null)
    {
        T Read<T>(string key, Func<T> read, T otherwise)
        {
            if (errors is null) return read();
            try { return read(); }
            catch (ConfigFormatException e) { errors.TryAdd(key, e); return otherwise; }
        }
        var defaultStatus = DefaultStatusUri(rserver);
        var policy = new BalancerPolicy
        {
            ConfigRoot = root.Path,
            Path = root.PathOf(FileName),
            FilePresent = doc is not null,
            Method = doc?.GetValue(BalancerSection, MethodKey) is { Length: > 0 } method ? method.ToLowerInvariant() : BalancerPolicy.DefaultMethod,
            MaxSessionsPerNode = Read(MaxSessionsKey, () => ConfigValues.Int(doc, BalancerSection, MaxSessionsKey, 1, 1_000_000), null),
            Sticky = Read(StickyKey, () => ConfigValues.Bool(doc, BalancerSection, StickyKey), null) ?? false,
            DeadlineMs = Read(DeadlineKey, () => ConfigValues.Int(doc, BalancerSection, DeadlineKey, MinDeadlineMs, MaxDeadlineMs,
                                          "a user waits on every decision"), null) ?? BalancerPolicy.DefaultDeadlineMs,
            StatusUri = Read(StatusUrlKey, () => StatusUri(doc), null) ?? defaultStatus,
            StateDirectory = Read(StateDirectoryKey, () => AbsolutePath(doc, StateDirectoryKey), null) ?? BalancerPolicy.DefaultStateDirectory,
            ServiceSocket = Read(ServiceSocketKey, () => SocketPath(doc), null) ?? BalancerPolicy.DefaultServiceSocket,
            StoreMaxAgeMs = Read(StoreMaxAgeKey, () => ConfigValues.Int(doc, BalancerSection, StoreMaxAgeKey, 0, MaxStoreMaxAgeMs,
                                            "a drain takes effect within it"), null) ?? BalancerPolicy.DefaultStoreMaxAgeMs,
        };
        return new ModuleSettings
        {
            FilePresent = doc is not null,
            FilePath = root.PathOf(FileName),
            Document = doc,
            CustomScriptPath = Read(CustomScriptKey, () => ConfigValues.String(doc, null, CustomScriptKey), null),
            UseIpAddress = Read(UseIpAddressKey, () => ConfigValues.Bool(doc, null, UseIpAddressKey), null),
            Balancer = policy,
        };
    }

    /// <summary>
    /// The custom script and IP-address option in effect: this file's, else a legacy key still in the
    /// load-balancer file, else the defaults (Workbench's fixed script path; host names).
    /// </summary>
    public (string ScriptPath, bool UseIpAddress) Effective(LoadBalancerConfig lb) =>
        (CustomScriptPath ?? lb.LegacyCustomScriptPath ?? LoadBalancerConfig.DefaultCustomScript,
         UseIpAddress ?? lb.LegacyUseIpAddress ?? false);

    /// <summary>
    /// This node's own status page: where rserver listens, www-address and www-port. Not "localhost" (the guide's curl):
    /// with a specific www-address rserver owns no port on 127.0.0.1 or ::1, and anyone may listen there; and
    /// "localhost" may lead to ::1 while rserver listens on IPv4 only. Every address (0.0.0.0, ::) is read on loopback.
    /// </summary>
    public static string DefaultStatusUri(RServerConfig rserver)
    {
        var host = rserver.WwwAddress.Trim() switch
        {
            "" or "0.0.0.0" => "127.0.0.1",
            "::" or "[::]" => "::1",
            var a => a.StartsWith('[') && a.EndsWith(']') ? a[1..^1] : a,
        };
        return $"{rserver.Protocol}://{NodeCandidate.FormatAddress(host, rserver.WwwPort)}/load-balancer/status";
    }

    private static string? AbsolutePath(ConfigDocument? doc, string key)
    {
        var line = doc?.Find(BalancerSection, key);
        if (line is null || string.IsNullOrEmpty(line.Value)) return null;
        if (!Path.IsPathRooted(line.Value)) throw ConfigFormatException.AtValue(doc!.FilePath, line, "must be an absolute path");
        return line.Value;
    }

    private static string? SocketPath(ConfigDocument? doc)
    {
        var path = AbsolutePath(doc, ServiceSocketKey);
        if (path is not null && Platform.UnixSocketPath.WhyInvalid(path) is { } why)
            throw ConfigFormatException.AtValue(doc!.FilePath, doc.Find(BalancerSection, ServiceSocketKey)!, why);
        return path;
    }

    private static string? StatusUri(ConfigDocument? doc)
    {
        var line = doc?.Find(BalancerSection, StatusUrlKey);
        if (line is null || string.IsNullOrEmpty(line.Value)) return null;
        if (!Uri.TryCreate(line.Value, UriKind.Absolute, out var uri) || !Formats.SessionLoadText.IsPageAddress(uri))
            throw ConfigFormatException.AtValue(doc!.FilePath, line, "must be an http:// or https:// address, such as http://localhost:8787/load-balancer/status");
        return line.Value;
    }
}
