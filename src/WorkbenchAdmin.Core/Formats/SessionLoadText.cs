using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WorkbenchAdmin.Core.Formats;

/// <summary>
/// The text of Workbench's <c>/load-balancer/status</c> page: per node a line
/// <c>host:port -  Load: 1-min, 5-min, 15-min</c> and under it <c>   pid - user</c> per session.
/// Loads print as C++ streams print doubles (%g, six significant digits), so the text matches the page byte for byte.
/// </summary>
public static partial class SessionLoadText
{
    /// <summary>Where a status page can be read from: an absolute http:// or https:// address.</summary>
    public static bool IsPageAddress(Uri uri) => uri.IsAbsoluteUri && uri.Scheme is "http" or "https";

    public static string Format(IEnumerable<NodeSessionLoad> nodes)
    {
        var sb = new StringBuilder();
        foreach (var node in nodes)
        {
            sb.Append(node.Address).Append(" -  Load: ")
              .Append(FormatLoad(node.Load1)).Append(", ")
              .Append(FormatLoad(node.Load5)).Append(", ")
              .Append(FormatLoad(node.Load15)).Append('\n');
            foreach (var s in node.Sessions)
                sb.Append("   ").Append(s.Pid.ToString(CultureInfo.InvariantCulture)).Append(" - ").Append(s.UserName).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>printf's %g with precision 6: no trailing zeros, exponent form below 1e-4 or from 1e6.</summary>
    public static string FormatLoad(double value)
    {
        if (value == 0) return "0";
        if (!double.IsFinite(value)) return double.IsNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
        // Round to six significant digits first: that can carry into the next power of ten (999999.5 -> 1e+06).
        var rounded = double.Parse(value.ToString("E5", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var exponent = (int)Math.Floor(Math.Log10(Math.Abs(rounded)));
        if (exponent < -4 || exponent >= 6)
        {
            var mantissa = (rounded / Math.Pow(10, exponent)).ToString("0.#####", CultureInfo.InvariantCulture);
            return $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }
        return rounded.ToString("0." + new string('#', Math.Max(0, 5 - exponent)), CultureInfo.InvariantCulture);
    }

    /// <summary>Parses the page's text; a line that is neither a node nor a session line is an error naming it.</summary>
    public static IReadOnlyList<NodeSessionLoad> Parse(string text, string source = "input")
    {
        var nodes = new List<NodeSessionLoad>();
        string? address = null;
        double l1 = 0, l5 = 0, l15 = 0;
        var sessions = new List<SessionEntry>();
        void Flush()
        {
            if (address is null) return;
            nodes.Add(new NodeSessionLoad { Address = address, Load1 = l1, Load5 = l5, Load15 = l15, Sessions = sessions.ToList(), SessionCount = sessions.Count });
            sessions.Clear();
        }

        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0) continue;
            var node = NodeLine().Match(line);
            if (node.Success)
            {
                Flush();
                address = node.Groups["address"].Value;
                (l1, l5, l15) = (Load(node, "l1", i, line, source), Load(node, "l5", i, line, source), Load(node, "l15", i, line, source));
                continue;
            }
            var session = SessionLine().Match(line);
            if (session.Success && address is not null)
            {
                // Ten digits match the pattern but may not fit a PID: a parse error naming the line, not an overflow.
                if (!int.TryParse(session.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    throw new WbException("SessionLoadSyntaxError", WbErrorCategory.ParserError,
                        $"{source}:{i + 1}: process id {session.Groups["pid"].Value} is not a PID (at most {int.MaxValue}): '{SafeText.Quote(line)}'", source);
                sessions.Add(new SessionEntry(pid, session.Groups["user"].Value));
                continue;
            }
            throw new WbException("SessionLoadSyntaxError", WbErrorCategory.ParserError,
                $"{source}:{i + 1}: expected 'host:port -  Load: a, b, c' or '   pid - user'{(address is null && session.Success ? " after a node line" : "")}: '{SafeText.Quote(line)}'", source);
        }
        Flush();
        return nodes;
    }

    private static double Load(Match m, string group, int index, string line, string source)
    {
        if (double.TryParse(m.Groups[group].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        throw new WbException("SessionLoadSyntaxError", WbErrorCategory.ParserError,
            $"{source}:{index + 1}: load '{m.Groups[group].Value}' is not a number: '{SafeText.Quote(line)}'", source);
    }

    [GeneratedRegex(@"^(?<address>\S+) -\s+Load: (?<l1>[^,\s]+), (?<l5>[^,\s]+), (?<l15>[^,\s]+)\s*$")]
    private static partial Regex NodeLine();

    [GeneratedRegex(@"^\s+(?<pid>\d{1,10}) - (?<user>.+?)\s*$")]
    private static partial Regex SessionLine();
}
