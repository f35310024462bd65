using Microsoft.Extensions.Logging;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>The well-known files of a configuration root and how each is parsed.</summary>
public static class ConfigFiles
{
    public const string RServer = "rserver.conf";
    public const string Launcher = "launcher.conf";
    public const string Database = "database.conf";
    public const string LoadBalancer = "load-balancer";
    public const string SecureCookieKey = "secure-cookie-key";

    /// <summary>The key=value files, in the order listings show them.</summary>
    public static readonly IReadOnlyList<string> Known = [RServer, Launcher, Database, LoadBalancer];

    /// <summary>
    /// How Workbench reads a file, by its name (<see cref="ConfigFileKinds"/>; the database config file may have another
    /// name: see <see cref="DatabaseConfig.Load"/>). A file of a kind that is not read as settings gets boost's rules
    /// when a caller asks to parse it anyway.
    /// </summary>
    public static ConfigDialect DialectOf(string fileName) => ConfigFileKinds.Of(fileName).Dialect ?? ConfigDialect.Standard;
}

/// <summary>
/// Where the cluster's configuration lives: <c>/etc/rstudio</c> unless a cmdlet's <c>-ConfigRoot</c>, the
/// <c>WORKBENCHADMIN_CONFIG_ROOT</c> variable or Workbench's own <c>RSTUDIO_CONFIG_DIR</c> says otherwise.
/// Taking any directory lets admins inspect a copy and tests use temporary directories.
/// </summary>
public sealed class ConfigRoot
{
    private static readonly Microsoft.Extensions.Logging.ILogger Log = Logging.CommandLog.For<ConfigRoot>();
    public const string DefaultPath = "/etc/rstudio";
    public const string DefaultStateDirectory = "/var/lib/rstudio-server";
    public const string EnvironmentVariable = "WORKBENCHADMIN_CONFIG_ROOT";
    public const string WorkbenchEnvironmentVariable = "RSTUDIO_CONFIG_DIR";

    public ConfigRoot(string path, string? stateDirectory = null)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new WbException("InvalidConfigRoot", WbErrorCategory.InvalidArgument, "The configuration root must be a directory path.", path);
        Path = System.IO.Path.GetFullPath(path);
        // Only the real /etc/rstudio falls back to the real state directory: a copy elsewhere must not
        // silently pick up this machine's secure-cookie-key.
        StateDirectory = stateDirectory ?? (Path == DefaultPath ? DefaultStateDirectory : null);
    }

    public string Path { get; }
    /// <summary>The directory holding the last-resort secure-cookie-key, or null when it is not searched.</summary>
    public string? StateDirectory { get; }

    public static ConfigRoot Resolve(string? explicitPath = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var chosen = FirstSet(explicitPath, environment(EnvironmentVariable), environment(WorkbenchEnvironmentVariable)) ?? DefaultPath;
        return new ConfigRoot(chosen);
    }

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    public string PathOf(string fileName) => System.IO.Path.Combine(Path, fileName);

    public bool Exists(string fileName) => File.Exists(PathOf(fileName));

    /// <summary>Parses a file of this root (as its name says, unless <paramref name="dialect"/> is given); null when it does not exist.</summary>
    public ConfigDocument? TryLoad(string fileName, ConfigDialect? dialect = null)
    {
        var path = PathOf(fileName);
        byte[] bytes;
        try
        {
            if (!File.Exists(path)) return null;
            bytes = File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new WbException("ConfigReadDenied", WbErrorCategory.PermissionDenied,
                $"Cannot read '{path}': permission denied. Run as root or as the file's owner.", path, e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new WbException("ConfigReadFailed", WbErrorCategory.ReadError, $"Cannot read '{path}': {e.Message}", path, e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        Log.LogDebug("read {Path} ({Bytes} bytes)", path, bytes.Length);
        return ConfigDocument.Parse(bytes, path, dialect ?? ConfigFiles.DialectOf(fileName));
    }

    /// <summary>Parses a file of this root, or an empty document (named by its path) when it does not exist.</summary>
    public ConfigDocument LoadOrEmpty(string fileName, ConfigDialect? dialect = null) =>
        TryLoad(fileName, dialect) ?? ConfigDocument.Empty(PathOf(fileName), dialect ?? ConfigFiles.DialectOf(fileName));

    public override string ToString() => Path;
}
