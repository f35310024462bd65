namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// database.conf as Workbench reads it. When <c>connection-uri</c> is set, only it and <c>password</c>
/// count (and <c>password</c> wins over the URI's); otherwise the discrete keys with their defaults.
/// </summary>
public sealed record DatabaseConfig
{
    public const string TimeoutKey = "connection-timeout-seconds";
    /// <summary>The spelling older builds used; still honoured.</summary>
    public const string LegacyTimeoutKey = "connnection-timeout-seconds";

    public required string FilePath { get; init; }
    public bool FilePresent { get; init; }
    /// <summary><c>sqlite</c> (the default) or <c>postgresql</c>, lower-cased.</summary>
    public string Provider { get; init; } = "sqlite";
    public string Host { get; init; } = "localhost";
    public int Port { get; init; } = 5432;
    public string Database { get; init; } = "rstudio";
    public string Username { get; init; } = "postgres";
    public SecretValue? Password { get; init; }
    /// <summary>Where <see cref="Password"/> came from: <c>password</c>, <c>connection-uri</c>, or null.</summary>
    public string? PasswordSource { get; init; }
    public PostgresConnectionUri? ConnectionUri { get; init; }
    public int ConnectionTimeoutSeconds { get; init; } = 10;
    /// <summary>The key the timeout was read from (either spelling), or null for the default.</summary>
    public string? ConnectionTimeoutKey { get; init; }
    /// <summary><c>pool-size</c> as written; 0 means automatic.</summary>
    public int PoolSize { get; init; }
    /// <summary>SQLite's database directory (<c>directory</c>), for checks that SQLite is not on NFS.</summary>
    public string? SqliteDirectory { get; init; }

    public bool IsPostgres => Provider == "postgresql";

    /// <summary>Workbench's automatic pool size: the CPU count, at least 4 and at most 6.</summary>
    public int EffectivePoolSize(int processorCount) => PoolSize > 0 ? PoolSize : Math.Clamp(processorCount, 4, 6);

    /// <summary>Reads the database config file rserver.conf names (database-config-file), else database.conf, as Workbench reads it.</summary>
    public static DatabaseConfig Load(ConfigRoot root, RServerConfig? rserver = null)
    {
        var path = PathOf(root, rserver?.DatabaseConfigFile);
        return From(root.TryLoad(path, ConfigDialect.Database), path);
    }

    /// <summary>The full path of the database config file: <paramref name="databaseConfigFile"/> (database-config-file, relative to the root) or the root's database.conf.</summary>
    public static string PathOf(ConfigRoot root, string? databaseConfigFile) =>
        Path.GetFullPath(root.PathOf(databaseConfigFile ?? ConfigFiles.Database));

    public static DatabaseConfig From(ConfigDocument? doc, string path)
    {
        var providerLine = doc?.Find(null, "provider");
        var provider = (providerLine?.Value ?? "sqlite").ToLowerInvariant();
        if (provider is "postgres") provider = "postgresql";
        if (provider is not ("sqlite" or "postgresql"))
            throw ConfigFormatException.AtValue(path, providerLine!, "must be sqlite or postgresql");

        var (timeout, timeoutKey) = ReadTimeout(doc, path);
        var passwordValue = ConfigValues.String(doc, null, "password");
        var uriLine = doc?.Find(null, "connection-uri");
        PostgresConnectionUri? uri = null;
        if (!string.IsNullOrEmpty(uriLine?.Value))
        {
            try { uri = PostgresConnectionUri.Parse(uriLine.Value); }
            catch (FormatException e) { throw ConfigFormatException.AtValue(path, uriLine, e.Message); }
        }

        var baseConfig = new DatabaseConfig
        {
            FilePath = path,
            FilePresent = doc is not null,
            Provider = provider,
            ConnectionTimeoutSeconds = timeout ?? 10,
            ConnectionTimeoutKey = timeoutKey,
            PoolSize = ConfigValues.Int(doc, null, "pool-size", 0, 10_000) ?? 0,
            SqliteDirectory = ConfigValues.String(doc, null, "directory"),
            ConnectionUri = uri,
        };

        if (uri is not null)
        {
            var password = passwordValue is not null ? new SecretValue(passwordValue) : uri.Password;
            return baseConfig with
            {
                Host = uri.Host ?? "localhost",
                Port = uri.Port ?? 5432,
                Database = uri.Database ?? "rstudio",
                Username = uri.User ?? "postgres",
                Password = password,
                PasswordSource = passwordValue is not null ? "password" : uri.Password is not null ? "connection-uri" : null,
            };
        }

        return baseConfig with
        {
            Host = ConfigValues.String(doc, null, "host") ?? "localhost",
            Port = ConfigValues.Int(doc, null, "port", 1, 65535) ?? 5432,
            Database = ConfigValues.String(doc, null, "database") ?? "rstudio",
            Username = ConfigValues.String(doc, null, "username") ?? "postgres",
            Password = passwordValue is null ? null : new SecretValue(passwordValue),
            PasswordSource = passwordValue is null ? null : "password",
        };
    }

    /// <summary>The longest connection timeout Npgsql takes; Workbench takes more, but we could not connect with it.</summary>
    public const int MaxTimeoutSeconds = 1024;

    private static (int? Value, string? Key) ReadTimeout(ConfigDocument? doc, string path)
    {
        // The correct spelling wins when both are present.
        foreach (var key in new[] { TimeoutKey, LegacyTimeoutKey })
        {
            var value = ConfigValues.Int(doc, null, key, 0, MaxTimeoutSeconds, "the longest connection timeout WorkbenchAdmin's PostgreSQL driver accepts");
            if (value is not null) return (value, key);
        }
        return (null, null);
    }
}
