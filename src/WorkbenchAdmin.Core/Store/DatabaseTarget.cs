using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Store;

/// <summary>What a cmdlet was given to reach the database: a configuration root, and optional overrides.</summary>
public sealed record DatabaseRequest
{
    public string? ConfigRoot { get; init; }
    /// <summary>A Npgsql/libpq-style connection string used instead of database.conf.</summary>
    public string? ConnectionString { get; init; }
    /// <summary>From -Credential: replaces the user name and password.</summary>
    public string? UserName { get; init; }
    public SecretValue? Password { get; init; }

    /// <summary>Printing (ToString, string interpolation, logs) shows the connection string without its password.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"ConfigRoot = {ConfigRoot}, ConnectionString = {DatabaseTarget.Redact(ConnectionString)}, UserName = {UserName}, Password = {Password}");
        return true;
    }
}

/// <summary>
/// The PostgreSQL server a cluster uses, resolved from database.conf (or overrides) into a Npgsql
/// connection string. <see cref="Description"/> names host, port, database and user for messages, never
/// the password.
/// </summary>
public sealed partial record DatabaseTarget
{
    public const string ApplicationName = "WorkbenchAdmin";

    public required string ConnectionString { get; init; }
    public required string Host { get; init; }
    public required int Port { get; init; }
    public required string Database { get; init; }
    public required string UserName { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>Added to a login failure when the configured password looks like another tool's ciphertext.</summary>
    public string? PasswordHint { get; init; }
    public string Description => $"PostgreSQL at {Host}:{Port}, database '{Database}', user '{UserName}'";

    /// <summary>The connection string holds the password: printing shows <see cref="Description"/> instead.</summary>
    public override string ToString() => Description;

    /// <summary>A connection string as it may be shown: passwords masked; one that cannot be read, not at all.</summary>
    public static string? Redact(string? connectionString)
    {
        if (connectionString is null) return null;
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (builder.Password is not null) builder.Password = SecretValue.Mask;
            if (builder.SslPassword is not null) builder.SslPassword = SecretValue.Mask;
            return builder.ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            return "(a connection string that cannot be read)";
        }
    }

    public static DatabaseTarget Resolve(DatabaseRequest request)
    {
        var warnings = new List<string>();
        string? hint = null;
        NpgsqlConnectionStringBuilder builder;
        if (!string.IsNullOrWhiteSpace(request.ConnectionString))
        {
            try { builder = new NpgsqlConnectionStringBuilder(request.ConnectionString); }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                // Not the inner exception: the parser's may quote part of the string, and that may be the password.
                throw new WbException("InvalidConnectionString", WbErrorCategory.InvalidArgument,
                    $"-ConnectionString is not a valid connection string: {e.Message}", null);
            }
        }
        else
        {
            builder = FromConfig(ConfigRoot.Resolve(request.ConfigRoot), warnings, out hint);
        }

        if (request.UserName is not null) builder.Username = request.UserName;
        if (request.Password is not null) builder.Password = request.Password.Reveal();
        builder.ApplicationName = ApplicationName;
        return new DatabaseTarget
        {
            ConnectionString = builder.ConnectionString,
            Host = builder.Host ?? "localhost",
            Port = builder.Port,
            Database = builder.Database ?? "postgres",
            UserName = builder.Username ?? "postgres",
            Warnings = warnings,
            PasswordHint = request.Password is null ? hint : null,
        };
    }

    private static NpgsqlConnectionStringBuilder FromConfig(ConfigRoot root, List<string> warnings, out string? hint)
    {
        hint = null;
        var rserver = RServerConfig.Load(root);
        var db = DatabaseConfig.Load(root, rserver);
        if (!db.FilePresent)
            throw new WbException(WbErrorIds.DatabaseConfigMissing, WbErrorCategory.ObjectNotFound,
                $"'{db.FilePath}' does not exist; a cluster needs database.conf with provider=postgresql (or pass -ConnectionString).", db.FilePath);
        if (!db.IsPostgres)
            throw new WbException("SqliteNotSupported", WbErrorCategory.InvalidOperation,
                $"'{db.FilePath}' says provider={db.Provider}: a load-balanced cluster needs PostgreSQL (SQLite cannot be shared between nodes). Set provider=postgresql.", db.FilePath);

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = db.Host,
            Port = db.Port,
            Database = db.Database,
            Username = db.Username,
            Timeout = Math.Max(1, db.ConnectionTimeoutSeconds),
            MaxPoolSize = Math.Max(db.EffectivePoolSize(Environment.ProcessorCount), 4),
        };
        if (db.Password is { } secret)
        {
            var value = secret.Reveal();
            if (value.StartsWith("wbenc:", StringComparison.Ordinal) && !PasswordProtector.IsProtected(value))
                throw new WbException("PasswordFormatUnknown", WbErrorCategory.InvalidData,
                    $"The password in '{db.FilePath}' uses an encryption format this version of WorkbenchAdmin does not know ({FormatVersion().Match(value).Value}…). Update the module, or store it again with Protect-WbDatabasePassword -Apply.", db.FilePath);
            if (PasswordProtector.IsProtected(value))
            {
                var key = SecureCookieKey.Locate(root, rserver);
                if (key.Path is null)
                    throw new WbException("SecureCookieKeyMissing", WbErrorCategory.ObjectNotFound,
                        $"The password in '{db.FilePath}' is encrypted, but no secure-cookie-key was found (searched {string.Join(", ", key.Searched)}).", db.FilePath);
                builder.Password = PasswordProtector.Unprotect(value, SecureCookieKey.Read(key.Path), db.FilePath);
            }
            else
            {
                builder.Password = value;
                if (PasswordProtector.LooksLikeForeignCiphertext(value))
                    hint = $"The password in '{db.FilePath}' looks encrypted (for example by rstudio-server encrypt-password), which WorkbenchAdmin cannot decrypt: " +
                           "pass -Credential, or store the password with Protect-WbDatabasePassword -Apply.";
                else
                    warnings.Add($"The database password in '{db.FilePath}' is plain text. Encrypt it with Protect-WbDatabasePassword -Apply.");
            }
        }
        if (db.ConnectionUri is { } uri) ApplySsl(builder, uri, db.FilePath);
        return builder;
    }

    /// <summary>Only the format's name and version of a value we cannot read, never what follows (it may be a plain password).</summary>
    [GeneratedRegex("^wbenc:(v[0-9]{1,3}:)?")]
    private static partial Regex FormatVersion();

    private static void ApplySsl(NpgsqlConnectionStringBuilder builder, PostgresConnectionUri uri, string path)
    {
        if (uri.SslMode is { } mode)
        {
            builder.SslMode = mode.ToLowerInvariant() switch
            {
                "disable" => SslMode.Disable,
                "allow" => SslMode.Allow,
                "prefer" => SslMode.Prefer,
                "require" => SslMode.Require,
                "verify-ca" => SslMode.VerifyCA,
                "verify-full" => SslMode.VerifyFull,
                _ => throw new WbException("InvalidSslMode", WbErrorCategory.InvalidData,
                    $"'{path}': connection-uri sslmode '{mode}' is not one of disable, allow, prefer, require, verify-ca, verify-full.", path),
            };
        }
        if (uri.Parameters.GetValueOrDefault("sslcert") is { } cert) builder.SslCertificate = cert;
        if (uri.Parameters.GetValueOrDefault("sslkey") is { } key) builder.SslKey = key;
        if (uri.Parameters.GetValueOrDefault("sslrootcert") is { } root) builder.RootCertificate = root;
    }
}
