using System.Net.Sockets;
using Npgsql;

namespace WorkbenchAdmin.Core.Store;

/// <summary>Turns Npgsql failures into errors that name the server and say what to do; never the password.</summary>
public static class DatabaseErrors
{
    public static WbException Map(Exception e, DatabaseTarget target) => e switch
    {
        WbException wb => wb,
        PostgresException { SqlState: "28P01" or "28000" } pg => new WbException("DatabaseAuthenticationFailed", WbErrorCategory.AuthenticationError,
            $"{target.Description} refused the login: {pg.MessageText}. {target.PasswordHint ?? "Check the user name and password (database.conf, or -Credential)."}", target.Description, e),
        PostgresException { SqlState: "3D000" } => new WbException("DatabaseNotFound", WbErrorCategory.ConnectionError,
            $"{target.Description}: the database does not exist. Create an empty database for the cluster (createdb {target.Database}).", target.Description, e),
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "08006" or "08001" or "08004" } pg => new WbException("DatabaseUnavailable", WbErrorCategory.ConnectionError,
            $"{target.Description} is not accepting work: {pg.MessageText}. Try again when it is back.", target.Description, e),
        // Every statement of ours names only the wbadmin schema: a table, column or schema it lacks means a store never
        // initialized, or initialized by an older module (a newer module adds columns, e.g. placement tokens in version 4).
        PostgresException { SqlState: "42P01" or "42703" or "3F000" } pg => new WbException(WbErrorIds.DatabaseSchemaOutdated, WbErrorCategory.NotInstalled,
            $"{target.Description} reported {pg.SqlState}: {pg.MessageText}. Its WorkbenchAdmin schema is missing or older than this module's " +
            $"(version {Schema.LatestVersion}): run Initialize-WbDatabase against it, which creates or upgrades the schema and keeps its data.", target.Description, e),
        PostgresException pg => new WbException("DatabaseError", WbErrorCategory.InvalidOperation,
            $"{target.Description} reported {pg.SqlState}: {pg.MessageText}", target.Description, e),
        NpgsqlException or SocketException or TimeoutException or IOException => new WbException("DatabaseUnreachable", WbErrorCategory.ConnectionError,
            $"Cannot reach {target.Description}: {Innermost(e).Message}", target.Description, e),
        _ => new WbException("DatabaseError", WbErrorCategory.NotSpecified, $"{target.Description}: {e.Message}", target.Description, e),
    };

    /// <summary>True when the failure means the connection (not the statement) broke: the pool should be cleared.</summary>
    public static bool IsConnectionFailure(Exception e) =>
        e is NpgsqlException { IsTransient: true } or SocketException or IOException or TimeoutException ||
        e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" } ||
        (e is NpgsqlException && e.InnerException is SocketException or IOException or EndOfStreamException);

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
