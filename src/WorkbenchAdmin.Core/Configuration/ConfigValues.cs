namespace WorkbenchAdmin.Core.Configuration;

/// <summary>Typed reads of entries, each failing with the file and line of a value it cannot use.</summary>
internal static class ConfigValues
{
    public static string? String(ConfigDocument? doc, string? section, string key)
    {
        var value = doc?.GetValue(section, key);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    public static bool? Bool(ConfigDocument? doc, string? section, string key)
    {
        var line = doc?.Find(section, key);
        if (line is null || string.IsNullOrEmpty(line.Value)) return null;
        return line.Value.ToLowerInvariant() switch
        {
            "1" or "true" or "yes" or "on" => true,
            "0" or "false" or "no" or "off" => false,
            _ => throw ConfigFormatException.AtValue(doc!.FilePath, line, "must be 1 or 0 (or true/false)"),
        };
    }

    /// <param name="why">Why the range is what it is, when that is not obvious.</param>
    public static int? Int(ConfigDocument? doc, string? section, string key, int min, int max, string? why = null) =>
        IntOf(doc, doc?.Find(section, key), key, min, max, why);

    public static int? IntOf(ConfigDocument? doc, ConfigLine? line, string key, int min, int max, string? why = null)
    {
        if (line is null || string.IsNullOrEmpty(line.Value)) return null;
        if (!int.TryParse(line.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < min || n > max)
            throw ConfigFormatException.AtValue(doc!.FilePath, line, $"must be a whole number from {min} to {max}{(why is null ? "" : $" ({why})")}");
        return n;
    }

    /// <summary>"file:line" of an entry, for showing where a setting came from.</summary>
    public static string? Source(ConfigDocument? doc, string? section, string key)
    {
        var line = doc?.Find(section, key);
        return line is null ? null : $"{doc!.FilePath}:{line.Number}";
    }
}
