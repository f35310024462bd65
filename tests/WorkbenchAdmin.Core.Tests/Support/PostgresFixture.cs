using Npgsql;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Tests.Support;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

/// <summary>One throwaway PostgreSQL server for the test run; each test class takes a fresh database on it.</summary>
public sealed class PostgresFixture : IDisposable
{
    private int _databases;

    public PostgresFixture() => Server = ThrowawayPostgres.Start();

    public ThrowawayPostgres Server { get; }

    /// <summary>A new, empty database with the module's schema in place.</summary>
    public ClusterStore NewStore(bool initialize = true)
    {
        var store = new ClusterStore(NewTarget());
        if (initialize) store.Initialize();
        return store;
    }

    public DatabaseTarget NewTarget()
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..20];
        using (var admin = new NpgsqlConnection(Server.ConnectionString()))
        {
            admin.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            create.ExecuteNonQuery();
        }
        return DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = Server.ConnectionString(name) });
    }

    public void Dispose() => Server.Dispose();
}
