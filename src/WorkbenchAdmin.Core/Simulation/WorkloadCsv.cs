using System.Globalization;
using System.Text;
using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Simulation;

/// <summary>
/// A CSV of arrivals: a header naming the columns user (or UserName), start (or Started), end (or Ended) and
/// optionally cpu, in any order (other columns are ignored, so Get-WbSession -IncludeEnded | Export-Csv reads
/// back), then one session per line. Times are ISO 8601 (UTC when no offset is given); an empty end runs to the
/// workload's end. Every error names the file and the line.
/// </summary>
public static class WorkloadCsv
{
    public static Workload Read(string path, IReadOnlyList<SimNodeSpec> nodes, double defaultCpu)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WbException("WorkloadFileUnreadable", e is FileNotFoundException or DirectoryNotFoundException ? WbErrorCategory.ObjectNotFound : WbErrorCategory.ReadError,
                $"Could not read the workload '{path}': {e.Message}", path, e);
        }
        return Workload.FromRecords($"CSV '{Path.GetFileName(path)}'", Parse(text, path, defaultCpu), nodes);
    }

    public static IReadOnlyList<(string User, DateTimeOffset Start, DateTimeOffset? End, double Cpu)> Parse(string text, string source, double defaultCpu)
    {
        var records = new List<(string, DateTimeOffset, DateTimeOffset?, double)>();
        int user = -1, start = -1, end = -1, cpu = -1, width = 0;
        var lineNumber = 0;
        var header = false;
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            var fields = Split(line, source, lineNumber);
            if (!header)
            {
                header = true;
                width = fields.Count;
                for (var i = 0; i < fields.Count; i++)
                {
                    switch (fields[i].Trim().ToLowerInvariant())
                    {
                        case "user" or "username": user = i; break;
                        case "start" or "started": start = i; break;
                        case "end" or "ended": end = i; break;
                        case "cpu": cpu = i; break;
                    }
                }
                if (user < 0 || start < 0 || end < 0)
                    throw Error(source, lineNumber, "the header must name the columns user, start and end (cpu is optional), " +
                                                    $"but it is \"{SafeText.Quote(line)}\"");
                continue;
            }
            if (fields.Count != width)
                throw Error(source, lineNumber, $"{fields.Count} fields where the header has {width}");
            var name = fields[user];
            try
            {
                BalanceEngine.ValidateUserName(name);
            }
            catch (WbException)
            {
                throw Error(source, lineNumber, $"user \"{SafeText.Quote(name)}\" is not a user name");
            }
            var s = Time(fields[start], "start", source, lineNumber) ?? throw Error(source, lineNumber, "the start is empty");
            var e = Time(fields[end], "end", source, lineNumber);
            if (e is { } ended && ended < s)
                throw Error(source, lineNumber, $"the end {fields[end].Trim()} is before the start {fields[start].Trim()}");
            var c = defaultCpu;
            if (cpu >= 0 && fields[cpu].Trim().Length > 0 &&
                (!double.TryParse(fields[cpu], NumberStyles.Float, CultureInfo.InvariantCulture, out c) || !double.IsFinite(c) || c < 0 || c > 4096))
                throw Error(source, lineNumber, $"cpu \"{SafeText.Quote(fields[cpu])}\" is not a number of cores from 0 to 4096 (like 0.5)");
            records.Add((name, s, e, c));
        }
        if (!header) throw Error(source, Math.Max(lineNumber, 1), "the file is empty: it needs a header (user,start,end,cpu) and one line per session");
        return records;
    }

    private static DateTimeOffset? Time(string field, string column, string source, int line)
    {
        var value = field.Trim();
        if (value.Length == 0) return null;
        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            throw Error(source, line, $"{column} \"{SafeText.Quote(value)}\" is not a time (like 2024-01-01T09:30:00Z)");
        return time;
    }

    /// <summary>RFC 4180 fields: separated by commas, optionally in double quotes ("" inside quotes is one quote).</summary>
    private static List<string> Split(string line, string source, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) throw Error(source, lineNumber, "a quoted field is not closed (a field cannot span lines)");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',') throw Error(source, lineNumber, $"text after a closing quote at column {i + 1}");
            }
            else
            {
                while (i < line.Length && line[i] != ',') field.Append(line[i++]);
            }
            fields.Add(field.ToString());
            if (i >= line.Length) return fields;
            i++; // the comma
        }
    }

    private static WbException Error(string source, int line, string message) =>
        new("InvalidWorkloadCsv", WbErrorCategory.InvalidData, $"{source}:{line.ToString(CultureInfo.InvariantCulture)}: {message}.", source);
}
