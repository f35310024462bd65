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


    public static NpgsqlDataSource Get(DatabaseTarget target)
    {
        try
        {
            return Sources.GetOrAdd(target.ConnectionString, cs => new Lazy<NpgsqlDataSource>(() =>
            {
                var builder = new NpgsqlDataSourceBuilder(cs);
                // Npgsql's own logging (statements at Debug) reaches the command running them.
                builder.UseLoggerFactory(Logging.CommandLog.Factory);
                return builder.Build();
            })).Value;
        }
        catch (ArgumentException e)
        {
            // A connection string that parses but cannot connect (no Host=): only -ConnectionString can give one.
            Sources.TryRemove(target.ConnectionString, out _);
            throw new WbException("InvalidConnectionString", WbErrorCategory.InvalidArgument,
                $"-ConnectionString cannot be used to connect: {e.Message}", null, e);
        }
    }

    public static int Count => Sources.Count;

    public static void DisposeAll()
    {
        foreach (var key in Sources.Keys)
            if (Sources.TryRemove(key, out var source) && source.IsValueCreated) source.Value.Dispose();
    }
}
