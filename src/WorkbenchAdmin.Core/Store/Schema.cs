using Npgsql;

namespace WorkbenchAdmin.Core.Store;

/// <summary>One step of the schema, applied once and recorded in <c>wbadmin.schema_version</c>.</summary>
public sealed record Migration(int Version, string Description, string Sql);

/// <summary>
/// The module's tables, in their own schema (<c>wbadmin</c>) so they never collide with Workbench's own
/// tables in a shared database. Migrations run in one transaction under an advisory lock, so running
/// Initialize-WbDatabase twice, or from two processes at once, is safe.
/// </summary>
public static class Schema
{
    public const string Name = "wbadmin";
    /// <summary>Advisory lock key for schema changes ("wbschema" as bytes).</summary>
    internal const long MigrationLock = 0x7762736368656d61;

    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "cluster, nodes and sessions", """
            CREATE TABLE wbadmin.cluster (
                id          int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
                key_hash    text NOT NULL,
                protocol    text NOT NULL,
                created_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE wbadmin.node (
                id              serial PRIMARY KEY,
                host            text NOT NULL,
                ipv4            text,
                port            int NOT NULL CHECK (port BETWEEN 1 AND 65535),
                status          text NOT NULL,
                key_hash        text NOT NULL,
                protocol        text NOT NULL,
                version         text,
                cores           int,
                load1           double precision NOT NULL DEFAULT 0,
                load5           double precision NOT NULL DEFAULT 0,
                load15          double precision NOT NULL DEFAULT 0,
                node_clock      timestamptz,
                last_seen       timestamptz NOT NULL DEFAULT now(),
                registered_at   timestamptz NOT NULL DEFAULT now(),
                active_sessions int NOT NULL DEFAULT 0 CHECK (active_sessions >= 0),
                UNIQUE (host, port)
            );
            CREATE SEQUENCE wbadmin.session_pid START 10000;
            CREATE TABLE wbadmin.session (
                id          bigserial PRIMARY KEY,
                node_id     int NOT NULL REFERENCES wbadmin.node (id) ON DELETE CASCADE,
                pid         int NOT NULL,
                username    text NOT NULL,
                started     timestamptz NOT NULL DEFAULT now(),
                ended       timestamptz
            );
            CREATE INDEX session_active_by_node ON wbadmin.session (node_id, id) WHERE ended IS NULL;
            CREATE INDEX session_by_user ON wbadmin.session (username) WHERE ended IS NULL;
            """),
        new(2, "node configuration fingerprints", """
            CREATE TABLE wbadmin.node_fingerprint (
                node_id     int PRIMARY KEY REFERENCES wbadmin.node (id) ON DELETE CASCADE,
                fingerprint jsonb NOT NULL,
                updated     timestamptz NOT NULL DEFAULT now()
            );
            """),
        new(3, "draining nodes", """
            ALTER TABLE wbadmin.node ADD COLUMN draining_since timestamptz;
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Brings the schema to the latest version. Returns the migrations it applied (none when current).</summary>
    public static async Task<IReadOnlyList<Migration>> MigrateAsync(NpgsqlDataSource source, CancellationToken cancel = default)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var tx = await connection.BeginTransactionAsync(cancel);
        await using (var setup = new NpgsqlBatch(connection, tx))
        {
            setup.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({MigrationLock})"));
            setup.BatchCommands.Add(new NpgsqlBatchCommand($"CREATE SCHEMA IF NOT EXISTS {Name}"));
            setup.BatchCommands.Add(new NpgsqlBatchCommand($"""
                CREATE TABLE IF NOT EXISTS {Name}.schema_version (
                    version     int PRIMARY KEY,
                    description text NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now())
                """));
            await setup.ExecuteNonQueryAsync(cancel);
        }

        int current;
        await using (var read = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {Name}.schema_version", connection, tx))
            current = (int)(await read.ExecuteScalarAsync(cancel))!;
        if (current > LatestVersion)
            throw new WbException("SchemaTooNew", WbErrorCategory.InvalidOperation,
                $"The database's schema is version {current}, newer than this module's {LatestVersion}. Update WorkbenchAdmin.", current);

        var applied = new List<Migration>();
        foreach (var migration in Migrations.Where(m => m.Version > current))
        {
            await using (var step = new NpgsqlCommand(migration.Sql, connection, tx)) await step.ExecuteNonQueryAsync(cancel);
            await using (var record = new NpgsqlCommand($"INSERT INTO {Name}.schema_version (version, description) VALUES ($1, $2)", connection, tx))
            {
                record.Parameters.Add(new NpgsqlParameter { Value = migration.Version });
                record.Parameters.Add(new NpgsqlParameter { Value = migration.Description });
                await record.ExecuteNonQueryAsync(cancel);
            }
            applied.Add(migration);
        }
        await tx.CommitAsync(cancel);
        return applied;
    }
}
