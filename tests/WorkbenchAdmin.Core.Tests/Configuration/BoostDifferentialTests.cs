using System.Text;
using System.Text.RegularExpressions;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Tests.Configuration;

/// <summary>
/// The boost reader against a tiny independent one, written here from boost's config_file.cpp rules with regular
/// expressions (no code shared with ConfigDocument), over many generated files: both must accept the same files and
/// read the same option names and values, or both refuse. Seeds are fixed, so a failure repeats.
/// </summary>
public partial class BoostDifferentialTests
{
    /// <summary>
    /// boost::program_options' config file, as rserver reads it: '#' ends the line, a ';' in the first column makes it
    /// a comment, " \t\r\n" trimmed, "[x]" sets the prefix "x.", "a = b" is option prefix+a with value b, anything else is
    /// an error; then store(): an option given twice is an error unless it is multitoken. Null: refused.
    /// </summary>
    private static List<(string Name, string Value)>? Reference(string text, ISet<string> multi)
    {
        var options = new List<(string, string)>();
        var prefix = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = CommentTail().Replace(raw, "");
            if (line.StartsWith(';')) continue;
            line = line.Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0) continue;
            if (Header().Match(line) is { Success: true } h)
            {
                // boost takes "[]=[]" as the prefix "]=[.", which makes every later key an option rserver does not know; we refuse it.
                if (h.Groups[1].Value.Length == 0 || h.Groups[1].Value.IndexOfAny(['[', ']']) >= 0) return null;
                prefix = h.Groups[1].Value.EndsWith('.') ? h.Groups[1].Value : h.Groups[1].Value + ".";
                continue;
            }
            if (Option().Match(line) is not { Success: true } o) return null;
            var name = prefix + o.Groups[1].Value.Trim(' ', '\t', '\r', '\n');
            // An empty name is no option; a line opening with '[' that is no header is none either (boost reads "[x=1" as
            // the option "[x", which rserver does not know): rserver refuses to start, and we refuse the line. Other unknown
            // names are read, and config.rserver-options warns on them.
            if (name.Length == 0 || name.EndsWith('.') || line.StartsWith('[')) return null;
            if (!multi.Contains(name) && options.Any(x => x.Item1 == name)) return null;
            options.Add((name, o.Groups[2].Value.Trim(' ', '\t', '\r', '\n')));
        }
        return options;
    }

    [GeneratedRegex("#.*$")] private static partial Regex CommentTail();
    [GeneratedRegex(@"^\[(.*)\]$")] private static partial Regex Header();
    [GeneratedRegex("^([^=]*)=(.*)$")] private static partial Regex Option();

    private static List<(string Name, string Value)>? Ours(string text)
    {
        try
        {
            var doc = ConfigDocument.Parse(text, "/etc/rstudio/rserver.conf");
            return doc.Entries.Select(l => (l.OptionName!, l.Value ?? "")).ToList();
        }
        catch (ConfigFormatException)
        {
            return null;
        }
    }

    // Section names are generated without inner blanks or brackets: there boost keeps "[ a ]" as the prefix " a ." and
    // "[a]b]" as "a]b.", while we refuse or trim them (no such option exists either way: rserver refuses to start).
    private static readonly string[] Pieces =
    [
        "www-port", "www-address", "server-add-header", "a", "=", " = ", "8787", "x y", "#", " # c", ";", "\t", " ", "[www]", "[s.]", "[]",
        "[", "]", "==", "k=v", "=v", "server-add-header=h", "auth-timeout-minutes=5",
    ];

    private static string Generate(Random r)
    {
        var sb = new StringBuilder();
        for (var n = r.Next(0, 12); n > 0; n--)
        {
            for (var i = r.Next(1, 5); i > 0; i--) sb.Append(Pieces[r.Next(Pieces.Length)]);
            sb.Append(r.Next(5) == 0 ? "\r\n" : "\n");
        }
        return sb.ToString();
    }

    [Fact]
    public void OurBoostReaderAgreesWithAnIndependentOneOnGeneratedFiles()
    {
        var random = new Random(2111);
        var multi = ConfigFileKinds.RServerMultiValued.ToHashSet();
        int accepted = 0, refused = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var text = Generate(random);
            var expected = Reference(text, multi);
            var actual = Ours(text);
            Assert.True(expected is null == actual is null, $"case {i}: reference {(expected is null ? "refuses" : "accepts")}, ours {(actual is null ? "refuses" : "accepts")}:\n{text}");
            if (expected is null) { refused++; continue; }
            Assert.Equal(expected, actual);
            accepted++;
        }
        Assert.True(accepted > 2000 && refused > 2000, $"{accepted} accepted, {refused} refused");
    }

    [Theory]
    [InlineData("; a comment in the first column\nwww-port=8787\n", "www-port=8787")]
    [InlineData("www-port = 8787 # the default\n", "www-port=8787")]
    [InlineData("[www]\nport=8787\n", "www.port=8787")]
    [InlineData("server-add-header=A: 1\nserver-add-header=B: 2\n", "server-add-header=A: 1|server-add-header=B: 2")]
    public void KnownCases(string text, string expected)
    {
        var read = Ours(text);
        Assert.NotNull(read);
        Assert.Equal(expected, string.Join("|", read.Select(o => $"{o.Name}={o.Value}")));
        Assert.Equal(Reference(text, ConfigFileKinds.RServerMultiValued.ToHashSet()), read);
    }
}
