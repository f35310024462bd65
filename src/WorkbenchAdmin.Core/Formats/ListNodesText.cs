using System.Globalization;

namespace WorkbenchAdmin.Core.Formats;

/// <summary>
/// The output of <c>rstudio-server list-nodes</c>: a line naming the cluster protocol, then a table with the
/// columns <c>ID  Host  IPv4  Port  Status  Last Seen</c>. Columns are cut where the header places them (a
/// status such as "Invalid secure cookie key" holds spaces), so the parser needs no knowledge of widths.
/// </summary>
public static class ListNodesText
{
    private static readonly string[] Columns = ["ID", "Host", "IPv4", "Port", "Status", "Last Seen"];

    public static IReadOnlyList<NodeInfo> Parse(string text, string source = "list-nodes output", DateTimeOffset? readAt = null)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        string? protocol = null;
        int[]? starts = null;
        var nodes = new List<NodeInfo>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd();
            if (line.Trim().Length == 0) continue;
            if (starts is null)
            {
                starts = HeaderStarts(line);
                if (starts is null && line.Contains("protocol", StringComparison.OrdinalIgnoreCase))
                    protocol = line[(line.IndexOf(':') + 1)..].Trim() is { Length: > 0 } p && line.Contains(':') ? p : protocol;
                else if (starts is null)
                    throw Error(source, i, line, "expected the cluster protocol line or the header 'ID  Host  IPv4  Port  Status  Last Seen'");
                continue;
            }
            if (line.Trim().All(c => c is '-' or ' ')) continue; // an underline of the header
            string Cell(int c) => starts[c] >= line.Length ? "" :
                (c + 1 < starts.Length ? line[starts[c]..Math.Min(line.Length, starts[c + 1])] : line[starts[c]..]).Trim();
            if (!int.TryParse(Cell(0), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                throw Error(source, i, line, $"the ID '{SafeText.Quote(Cell(0))}' is not a number");
            if (!int.TryParse(Cell(3), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                throw Error(source, i, line, $"the port '{SafeText.Quote(Cell(3))}' is not a port");
            var status = Cell(4);
            if (status.Length == 0) throw Error(source, i, line, "the status is empty");
            var seen = DateTimeOffset.TryParse(Cell(5), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s) ? s : readAt ?? default;
            nodes.Add(new NodeInfo
            {
                Id = id, Host = Cell(1), IPv4Address = Cell(2) is { Length: > 0 } ip ? ip : null, Port = port,
                Status = status, LastSeen = seen, Protocol = protocol,
            });
        }
        if (starts is null) throw new WbException("ListNodesSyntaxError", WbErrorCategory.ParserError, $"{source}: no header 'ID  Host  IPv4  Port  Status  Last Seen' was found.", source);
        return nodes;
    }

    /// <summary>Where each column starts when <paramref name="line"/> is the header; null otherwise.</summary>
    private static int[]? HeaderStarts(string line)
    {
        var starts = new int[Columns.Length];
        var from = 0;
        for (var c = 0; c < Columns.Length; c++)
        {
            var at = line.IndexOf(Columns[c], from, StringComparison.Ordinal);
            if (at < 0 || (c == 0 && line[..at].Trim().Length > 0)) return null;
            starts[c] = at;
            from = at + Columns[c].Length;
        }
        return starts;
    }

    private static WbException Error(string source, int index, string line, string problem) =>
        new("ListNodesSyntaxError", WbErrorCategory.ParserError, $"{source}:{index + 1}: {problem}: '{SafeText.Quote(line)}'", source);
}
