namespace WorkbenchAdmin.Core.Configuration;

/// <summary>The clustering-related settings of rserver.conf, with Workbench's documented defaults.</summary>
public sealed record RServerConfig
{
    public const int DefaultHttpPort = 8787;
    public const int DefaultHttpsPort = 443;
    public const int DefaultLauncherPort = 5559;

    public bool FilePresent { get; init; }
    /// <summary><c>load-balancing-enabled</c> as written; null when the key is absent.</summary>
    public bool? LoadBalancingEnabled { get; init; }
    public bool SslEnabled { get; init; }
    /// <summary><c>www-port</c>; 8787, or 443 when <c>ssl-enabled=1</c>.</summary>
    public int WwwPort { get; init; } = DefaultHttpPort;
    public string WwwAddress { get; init; } = "0.0.0.0";
    public string? ServerSharedStoragePath { get; init; }
    public string? SecureCookieKeyFile { get; init; }
    public string? LauncherAddress { get; init; }
    public int LauncherPort { get; init; } = DefaultLauncherPort;
    /// <summary>launcher-sessions-enabled; on when unset, as the installation guide says.</summary>
    public bool LauncherSessionsEnabled { get; init; } = true;
    public string? DatabaseConfigFile { get; init; }
    /// <summary><c>server-user</c>: the account rserver runs as (rstudio-server, as Posit's rserver.conf reference says).</summary>
    public string ServerUser { get; init; } = DefaultServerUser;
    public const string DefaultServerUser = "rstudio-server";

    /// <summary>The protocol a node advertises to the cluster.</summary>
    public string Protocol => SslEnabled ? "https" : "http";

    public static RServerConfig Load(ConfigRoot root) => From(root.TryLoad(ConfigFiles.RServer));

    public static RServerConfig From(ConfigDocument? doc)
    {
        var ssl = ConfigValues.Bool(doc, null, "ssl-enabled") ?? false;
        return new RServerConfig
        {
            FilePresent = doc is not null,
            LoadBalancingEnabled = ConfigValues.Bool(doc, null, "load-balancing-enabled"),
            SslEnabled = ssl,
            WwwPort = ConfigValues.Int(doc, null, "www-port", 1, 65535) ?? (ssl ? DefaultHttpsPort : DefaultHttpPort),
            WwwAddress = ConfigValues.String(doc, null, "www-address") ?? "0.0.0.0",
            ServerSharedStoragePath = ConfigValues.String(doc, null, "server-shared-storage-path"),
            SecureCookieKeyFile = ConfigValues.String(doc, null, "secure-cookie-key-file"),
            LauncherAddress = ConfigValues.String(doc, null, "launcher-address"),
            LauncherPort = ConfigValues.Int(doc, null, "launcher-port", 1, 65535) ?? DefaultLauncherPort,
            // The guide: "Launcher with the Local Plugin is enabled by default."
            LauncherSessionsEnabled = ConfigValues.Bool(doc, null, "launcher-sessions-enabled") ?? true,
            DatabaseConfigFile = ConfigValues.String(doc, null, "database-config-file"),
            ServerUser = ConfigValues.String(doc, null, "server-user") ?? DefaultServerUser,
        };
    }
}
