using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace WorkbenchAdmin.Core.Store;

/// <summary>
/// One NpgsqlDataSource per connection string for the life of the module (Npgsql's guidance): pooling
/// and prepared statements are shared by every cmdlet call. <see cref="DisposeAll"/> runs when the module
/// is removed.
/// </summary>
public static class DataSources
{
    private static readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> Sources = new(StringComparer.Ordinal);


    /// <param name="loadTypes">
    /// False skips Npgsql's loading of the server's type catalogue on the first connection: a round trip and a
    /// large result that a long-lived module pays once, but a one-decision process would pay every time. Only
    /// built-in types can then be read.
    /// </param>
    public static NpgsqlDataSource Get(DatabaseTarget target, bool loadTypes = true)
    {
        var key = KeyOf(target, loadTypes);
        try
        {
            return Sources.GetOrAdd(key, _ => new Lazy<NpgsqlDataSource>(() =>
            {
                if (!loadTypes) return BuildWithoutTypeLoading(target.ConnectionString);
                var builder = new NpgsqlDataSourceBuilder(target.ConnectionString);
                // Npgsql's own logging (statements at Debug) reaches the command running them.
                builder.UseLoggerFactory(Logging.CommandLog.Factory);
                return builder.Build();
            })).Value;
        }
        catch (ArgumentException e)
        {
            // A connection string that parses but cannot connect (no Host=): only -ConnectionString can give one.
            Sources.TryRemove(key, out _);
            throw new WbException("InvalidConnectionString", WbErrorCategory.InvalidArgument,
                $"-ConnectionString cannot be used to connect: {e.Message}", null, e);
        }
    }

    private static string KeyOf(DatabaseTarget target, bool loadTypes) =>
        loadTypes ? target.ConnectionString : target.ConnectionString + "\0no-type-loading";

    /// <summary>The slim builder: only the built-in types, so less to set up in a process that lives for one query.</summary>
    internal static NpgsqlDataSource BuildWithoutTypeLoading(string connectionString)
    {
        var slim = new NpgsqlSlimDataSourceBuilder(connectionString);
        slim.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        return slim.Build();
    }

    public static int Count => Sources.Count;

    /// <summary>Closes the pools of one target (a test's own database, when the test is done with it).</summary>
    internal static void Release(DatabaseTarget target)
    {
        foreach (var key in new[] { KeyOf(target, loadTypes: true), KeyOf(target, loadTypes: false) })
            if (Sources.TryRemove(key, out var source) && source.IsValueCreated) source.Value.Dispose();
    }

    public static void DisposeAll()
    {
        foreach (var key in Sources.Keys)
            if (Sources.TryRemove(key, out var source) && source.IsValueCreated) source.Value.Dispose();
    }
}
