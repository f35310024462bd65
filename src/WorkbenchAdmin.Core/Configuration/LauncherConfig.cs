namespace WorkbenchAdmin.Core.Configuration;

/// <summary>The <c>[server]</c> section of launcher.conf.</summary>
public sealed record LauncherConfig
{
    public const string Section = "server";

    public bool FilePresent { get; init; }
    /// <summary>Packages ship <c>address=localhost</c>; a cluster needs an address the other nodes reach (the guide uses 0.0.0.0).</summary>
    public string Address { get; init; } = "localhost";
    public int Port { get; init; } = RServerConfig.DefaultLauncherPort;
    public bool EnableSsl { get; init; }
    public string ServerUser { get; init; } = "rstudio-server";
    public string? AdminGroup { get; init; }

    public static LauncherConfig Load(ConfigRoot root) => From(root.TryLoad(ConfigFiles.Launcher));

    public static LauncherConfig From(ConfigDocument? doc) => new()
    {
        FilePresent = doc is not null,
        Address = ConfigValues.String(doc, Section, "address") ?? "localhost",
        Port = ConfigValues.Int(doc, Section, "port", 1, 65535) ?? RServerConfig.DefaultLauncherPort,
        EnableSsl = ConfigValues.Bool(doc, Section, "enable-ssl") ?? false,
        ServerUser = ConfigValues.String(doc, Section, "server-user") ?? "rstudio-server",
        AdminGroup = ConfigValues.String(doc, Section, "admin-group"),
    };
}
