namespace WorkbenchAdmin.Core.Configuration;

/// <summary>Where a known rserver.conf option comes from: the open-source server's list, or Posit's Workbench documentation.</summary>
public enum RServerOptionOrigin
{
    OpenSource,
    Workbench,
}

public sealed record RServerOption(string Name, RServerOptionOrigin Origin, string Source, bool MultiValued);

/// <summary>
/// The rserver.conf options Workbench documents, read from the data file shipped in the assembly
/// (Configuration/Data/rserver-options.txt, which names its sources and versions), and the nearest of them to a name
/// that is not one.
/// </summary>
public static class RServerOptions
{
    private const string ResourceName = "WorkbenchAdmin.Core.rserver-options.txt";
    private static readonly Lazy<IReadOnlyDictionary<string, RServerOption>> Options = new(Load);

    public static IReadOnlyDictionary<string, RServerOption> All => Options.Value;

    public static RServerOption? Find(string name) => All.GetValueOrDefault(name);

    internal static IReadOnlyDictionary<string, RServerOption> Parse(IEnumerable<string> lines)
    {
        var options = new Dictionary<string, RServerOption>(StringComparer.Ordinal);
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length is < 2 or > 3 || (fields.Length == 3 && fields[2] != "multi"))
                throw new InvalidDataException($"{ResourceName}: '{line}' is not '<source> <option> [multi]'");
            options[fields[1]] = new RServerOption(fields[1], fields[0] == "oss" ? RServerOptionOrigin.OpenSource : RServerOptionOrigin.Workbench, fields[0], fields.Length == 3);
        }
        return options;
    }

    private static IReadOnlyDictionary<string, RServerOption> Load()
    {
        using var stream = typeof(RServerOptions).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is missing from {typeof(RServerOptions).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return Parse(lines);
    }

    /// <summary>The known option nearest to <paramref name="name"/> (a typo's likely meaning), or null when none is close.</summary>
    public static string? Nearest(string name)
    {
        var limit = Math.Clamp(name.Length / 3, 1, 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in All.Keys.Order(StringComparer.Ordinal))
        {
            var d = Distance(name, candidate);
            if (d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        return bestDistance <= limit ? best : null;
    }

    /// <summary>Edits (insert, delete, replace, swap of two neighbours) from one name to another: optimal string alignment.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
