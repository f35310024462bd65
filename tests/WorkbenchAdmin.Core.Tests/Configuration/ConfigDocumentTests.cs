using System.Text;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Configuration;

public class ConfigDocumentTests
{
    private static void AssertRoundTrip(byte[] bytes, ConfigDialect? dialect = null)
    {
        var doc = ConfigDocument.Parse(bytes, "test.conf", dialect);
        Assert.Equal(bytes, doc.ToBytes());
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("a=1")]
    [InlineData("a=1\n")]
    [InlineData("a=1\r\nb = 2\r\n")]
    [InlineData("a=1\r\nb=2\nc=3")]
    [InlineData("# only a comment")]
    [InlineData("  # indented comment\n\n\t\nkey   =   spaced value   \n")]
    [InlineData("[server]\naddress=0.0.0.0\nport=5559\n\n[cluster]\nname=Local\ntype=Local\n")]
    [InlineData("key=value=with=equals\nempty=\nempty2 =   \n")]
    [InlineData("unicode=Zürich ☃ 名前\n")]
    [InlineData("  [ spaced section ]  \nk=v")]
    public void RoundTripIsByteIdentical(string text) => AssertRoundTrip(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void RoundTripKeepsByteOrderMark()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("www-port=8787\n")];
        var doc = ConfigDocument.Parse(bytes, "rserver.conf");
        Assert.Equal("www-port", doc.Lines[0].Key);
        Assert.Equal(bytes, doc.ToBytes());
    }

    [Fact]
    public void RoundTripsTheSnippetsOfTheInstallationGuide()
    {
        // The guide's key = value snippets: the SSSD configuration block and the balancer lines.
        var spec = File.ReadAllLines(Path.Combine(RepoPaths.Shared, "spec", "multi-server-installation.txt"));
        var start = Array.FindIndex(spec, l => l.StartsWith("config_file_version", StringComparison.Ordinal));
        var end = Array.FindIndex(spec, l => l.StartsWith("ldap_access_order", StringComparison.Ordinal));
        Assert.True(start >= 0 && end > start, "the SSSD snippet was not found in the guide");
        var sssd = string.Join("\n", spec[start..(end + 1)]) + "\n";
        var doc = ConfigDocument.Parse(sssd, "sssd.conf");
        Assert.Equal(Encoding.UTF8.GetBytes(sssd), doc.ToBytes());
        Assert.Equal("", doc.GetValue(null, "filter_groups"));
        Assert.Equal("/nfs/workbench/home/%u", doc.GetValue(null, "override_homedir"));
        Assert.Equal("(objectClass=posixAccount)", doc.GetValue(null, "ldap_access_filter"));

        var methods = File.ReadAllLines(Path.Combine(RepoPaths.Shared, "spec", "balancing-methods.txt"))
            .Where(l => l.StartsWith("balancer =", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, methods.Count);
        foreach (var line in methods)
        {
            var lb = ConfigDocument.Parse(line, "load-balancer", ConfigDialect.LoadBalancer);
            Assert.Equal(line, lb.ToString());
            Assert.True(BalancingMethods.IsKnown(lb.GetValue(null, "balancer")!));
        }
    }

    [Fact]
    public void ParsesKindsSectionsKeysAndValues()
    {
        var doc = ConfigDocument.Parse("# c\n\nglobal = 1\n[server]\naddress = 0.0.0.0 \nport=5559", "launcher.conf");
        Assert.Equal([ConfigLineKind.Comment, ConfigLineKind.Blank, ConfigLineKind.Entry, ConfigLineKind.Section, ConfigLineKind.Entry, ConfigLineKind.Entry],
                     doc.Lines.Select(l => l.Kind));
        Assert.Equal("1", doc.GetValue(null, "global"));
        Assert.Equal("0.0.0.0", doc.GetValue("server", "address"));
        Assert.Equal("5559", doc.GetValue("server", "port"));
        Assert.Null(doc.GetValue(null, "address"));
        Assert.Equal(5, doc.Find("server", "address")!.Number);
    }

    [Fact]
    public void ListSectionsAcceptBareValuesOnlyWhereTheDialectSaysSo()
    {
        const string legacy = "[config]\nbalancer = user-hash\n[nodes]\nnode1.example.com\nnode2.example.com:8787\n";
        var doc = ConfigDocument.Parse(legacy, "load-balancer", ConfigDialect.LoadBalancer);
        Assert.Equal(["node1.example.com", "node2.example.com:8787"],
                     doc.Lines.Where(l => l.Kind == ConfigLineKind.ListItem).Select(l => l.Key));
        Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse(legacy, "rserver.conf"));
    }

    public static TheoryData<string, int, int, string> Malformed => new()
    {
        { "a=1\nthis line has no equals s3cret\n", 2, 1, "expected 'key=value' (no '=' on the line)" },
        { "a=1\n = s3cret\n", 2, 2, "empty key before '='" },
        { "[server s3cret\naddress=x\n", 1, 1, "unterminated section header" },
        { "[]\n", 1, 1, "empty section name" },
        { "  [a]b s3cret]\n", 1, 3, "section name contains" },
        { "a=1\nb=2\n a=s3cret\n", 3, 2, "a: duplicate key (first set on line 1)" },
        { "[server]\nport=1\n[other]\nport=2\n[server]\nport=s3cret\n", 6, 1, "port: duplicate key in section [server] (first set on line 2)" },
        { "a=1\nkey with s3cret=2\nkey with s3cret=3\n", 3, 1, " duplicate key (first set on line 2)" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedInputNamesFileLineAndColumnButNotTheText(string text, int line, int column, string problem)
    {
        var e = Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse(text, "/etc/rstudio/x.conf"));
        Assert.Equal("/etc/rstudio/x.conf", e.FilePath);
        Assert.Equal((line, column), (e.LineNumber, e.Column));
        Assert.Contains(problem, e.Message);
        Assert.StartsWith($"/etc/rstudio/x.conf:{line}:{column}: ", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
        Assert.Equal(WbErrorCategory.ParserError, e.Category);
        Assert.Equal("ConfigSyntaxError", e.ErrorId);
    }

    [Fact]
    public void InvalidUtf8IsAnErrorOnItsLine()
    {
        byte[] bytes = [.. "a=1\nb="u8, 0xC3, 0x28, .. "\nc=3\n"u8];
        var e = Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse(bytes, "bad.conf"));
        Assert.Equal((2, 3, "b"), (e.LineNumber, e.Column, e.Key));
        Assert.Equal("bad.conf:2:3: b: invalid UTF-8 at byte 3 of the line", e.Message);
    }

    [Fact]
    public void OverlongAndSurrogateEncodingsAreRejected()
    {
        Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse([.. "k="u8, 0xC0, 0xAF], "x"));
        Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse([.. "k="u8, 0xED, 0xA0, 0x80], "x"));
    }

    [Fact]
    public void HostileInputNeverThrowsAnythingButAFormatError()
    {
        var random = new Random(12345);
        var alphabet = "ab=[]# \t\r\n=é\0"u8.ToArray();
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 40)];
            for (var j = 0; j < bytes.Length; j++) bytes[j] = random.Next(10) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            try
            {
                var doc = ConfigDocument.Parse(bytes, "fuzz");
                Assert.Equal(bytes, doc.ToBytes());
            }
            catch (ConfigFormatException e)
            {
                Assert.InRange(e.LineNumber, 1, bytes.Count(b => b == '\n') + 1);
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Fact]
    public void LongOffendingTextIsNotInTheMessage()
    {
        var e = Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse(new string('x', 10_000), "big"));
        Assert.Equal("big:1:1: expected 'key=value' (no '=' on the line)", e.Message);
    }

    [Fact]
    public void SetReplacesOnlyTheValueKeepingSpacingAndComments()
    {
        const string before = "# rserver\r\nwww-port  =  8787   \r\n# trailing comment\r\nload-balancing-enabled=0";
        var doc = ConfigDocument.Parse(before, "rserver.conf");
        Assert.True(doc.Set(null, "load-balancing-enabled", "1"));
        Assert.True(doc.Set(null, "www-port", "443"));
        Assert.Equal("# rserver\r\nwww-port  =  443   \r\n# trailing comment\r\nload-balancing-enabled=1", doc.ToString());
        Assert.False(doc.Set(null, "www-port", "443"));
    }

    [Fact]
    public void SetAppendsNewKeysInTheFileStyleAndKeepsAMissingFinalNewline()
    {
        var doc = ConfigDocument.Parse("a = 1\r\nb = 2", "x");
        doc.Set(null, "c", "3");
        Assert.Equal("a = 1\r\nb = 2\r\nc = 3", doc.ToString());
        Assert.Equal(3, doc.Find(null, "c")!.Number);

        var tight = ConfigDocument.Parse("a=1\n", "x");
        tight.Set(null, "b", "2");
        Assert.Equal("a=1\nb=2\n", tight.ToString());
    }

    [Fact]
    public void SetAddsToTheRightSectionOrCreatesIt()
    {
        var doc = ConfigDocument.Parse("# head\ntop=1\n\n[server]\naddress=localhost\n\n[cluster]\nname=Local\n", "launcher.conf");
        doc.Set("server", "port", "5559");
        doc.Set(null, "second", "2");
        doc.Set("new", "k", "v");
        Assert.Equal("# head\ntop=1\nsecond=2\n\n[server]\naddress=localhost\nport=5559\n\n[cluster]\nname=Local\n\n[new]\nk=v\n", doc.ToString());
        // What was written parses back to the same values.
        var again = ConfigDocument.Parse(doc.ToBytes(), "launcher.conf");
        Assert.Equal("5559", again.GetValue("server", "port"));
        Assert.Equal("v", again.GetValue("new", "k"));
    }

    [Fact]
    public void SetIntoEmptyDocumentAndEmptySection()
    {
        var doc = ConfigDocument.Empty("load-balancer");
        doc.Set(null, "balancer", "user-hash");
        Assert.Equal("balancer=user-hash\n", doc.ToString());

        var withHeader = ConfigDocument.Parse("[config]\n", "load-balancer");
        withHeader.Set("config", "balancer", "sessions");
        Assert.Equal("[config]\nbalancer=sessions\n", withHeader.ToString());
    }

    [Fact]
    public void RemoveDeletesOnlyThatLine()
    {
        var doc = ConfigDocument.Parse("a=1\nb=2\nc=3", "x");
        Assert.True(doc.Remove(null, "c"));
        Assert.Equal("a=1\nb=2", doc.ToString());
        Assert.True(doc.Remove(null, "a"));
        Assert.Equal("b=2", doc.ToString());
        Assert.False(doc.Remove(null, "zzz"));
    }

    [Theory]
    [InlineData("", "v")]
    [InlineData("a=b", "v")]
    [InlineData(" a", "v")]
    [InlineData("#a", "v")]
    [InlineData("[a", "v")]
    [InlineData("a", "line\nbreak")]
    [InlineData("a", " padded ")]
    public void SetRejectsWhatTheFormatCannotHold(string key, string value)
    {
        var doc = ConfigDocument.Empty("x");
        var e = Assert.Throws<WbException>(() => doc.Set(null, key, value));
        Assert.Equal(WbErrorCategory.InvalidArgument, e.Category);
        Assert.Empty(doc.Lines);
    }
}
