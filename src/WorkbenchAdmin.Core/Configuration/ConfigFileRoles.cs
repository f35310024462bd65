using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// What the files of a root are to Workbench, decided by where rserver.conf points (compared as files, by
/// device and inode, not by name): the database config file (database-config-file, else database.conf),
/// whose password is masked and which is read by its own rules; and the secure-cookie-key, wherever
/// secure-cookie-key-file or the default places put it, which is never listed, completed, read as
/// configuration or fingerprinted. Read once per operation: it reflects rserver.conf as it was then.
/// </summary>
public sealed class ConfigFileRoles
{
    private readonly ConfigRoot _root;
    private readonly bool _rserverRead;
    private readonly HashSet<string> _keyFiles;
    private readonly string _databaseConfig;

    private ConfigFileRoles(ConfigRoot root, bool rserverRead, HashSet<string> keyFiles, string databaseConfigPath)
    {
        _root = root;
        _rserverRead = rserverRead;
        _keyFiles = keyFiles;
        _databaseConfig = Identity(databaseConfigPath);
    }

    public static ConfigFileRoles Of(ConfigRoot root)
    {
        string? databaseConfigFile = null, keyFile = null;
        var rserverRead = true;
        try
        {
            // Only the two paths: a bad value elsewhere in rserver.conf must not hide where the key is.
            var rserver = root.TryLoad(ConfigFiles.RServer);
            databaseConfigFile = ConfigValues.String(rserver, null, "database-config-file");
            keyFile = ConfigValues.String(rserver, null, "secure-cookie-key-file");
        }
        catch (WbException)
        {
            rserverRead = false;
        }
        var keyFiles = SecureCookieKey.Candidates(root, keyFile).Select(c => Identity(c.Path)).ToHashSet(StringComparer.Ordinal);
        return new ConfigFileRoles(root, rserverRead, keyFiles, DatabaseConfig.PathOf(root, databaseConfigFile));
    }

    /// <summary>
    /// Why a file of the root is not configuration to list, complete or fingerprint; null when it is.
    /// While rserver.conf cannot be read, where the key is cannot be known: then only the well-known files are.
    /// </summary>
    public string? WhyNotConfiguration(string fileName)
    {
        var name = Path.GetFileName(fileName);
        // Only the root's own files: a path may lead to a key file this root does not know of (the real node's).
        if (name != fileName)
            return $"'{fileName}' is not a file name of the configuration root; to read another directory, pass it as -ConfigRoot.";
        if (name.StartsWith('.'))
            return $"'{name}' is a hidden file (a lock file, or an editor's or tool's leftover), not configuration.";
        if (_keyFiles.Contains(Identity(_root.PathOf(fileName))))
            return $"'{name}' is the secure-cookie-key, which is never shown (Get-WbBalancer reports its hash).";
        if (!_rserverRead && !ConfigFiles.Known.Contains(name))
            return $"'{name}' is not shown while rserver.conf cannot be read: it might be the secure-cookie-key that rserver.conf names.";
        return null;
    }

    public bool IsConfiguration(string fileName) => WhyNotConfiguration(fileName) is null;

    /// <summary>Whether a file of the root holds the database password: the one rserver.conf names, and any database.conf.</summary>
    public bool IsDatabaseConfig(string fileName) =>
        Path.GetFileName(fileName) == ConfigFiles.Database || Identity(_root.PathOf(fileName)) == _databaseConfig;

    /// <summary>What a file of the root is (the database config file rserver.conf names is one whatever its name).</summary>
    public ConfigFileKind KindOf(string fileName) =>
        IsDatabaseConfig(fileName) ? ConfigFileKinds.Database : ConfigFileKinds.Of(fileName);

    /// <summary>How Workbench reads a file of the root.</summary>
    public ConfigDialect DialectOf(string fileName) =>
        IsDatabaseConfig(fileName) ? ConfigDialect.Database : ConfigFiles.DialectOf(fileName);

    /// <summary>Mode for a file this module creates: the database config holds a password and must be 600.</summary>
    public UnixFileMode NewFileModeOf(string fileName) =>
        IsDatabaseConfig(fileName) ? UnixFileMode.UserRead | UnixFileMode.UserWrite : AtomicFile.DefaultMode;

    /// <summary>A value as it may be shown: the database config's password masked, its connection-uri without its password.</summary>
    public string? Mask(string fileName, string key, string? value)
    {
        if (value is null) return value;
        if (!IsDatabaseConfig(fileName))
            return ConfigFileKinds.Of(fileName).SecretKeys.Contains(key) && value.Length > 0 ? SecretValue.Mask : value;
        if (key == "password") return value.Length == 0 ? value : SecretValue.Mask;
        if (key == "connection-uri") return PostgresConnectionUri.MaskPassword(value);
        return value;
    }

    /// <summary>A file as itself (device and inode) when it can be looked at; else its full path.</summary>
    private static string Identity(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            return UnixFile.TryStat(full) is { } s ? $"{s.DeviceMajor}:{s.DeviceMinor}:{s.Inode}" : full;
        }
        catch (IOException)
        {
            return full;
        }
    }
}
