using System.Diagnostics;
using System.Text;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Configuration;

/// <summary>
/// The parser and the editor over many generated files: random bytes, long lines, NULs, invalid UTF-8,
/// CR/LF/CRLF mixes, byte order marks, a file of a few megabytes. Nothing but a format error may come out,
/// every error names its file and line (and quotes none of it), and an edit whose write fails at any point
/// leaves the file as it was. Seeds are fixed, so a failure repeats.
/// </summary>
public class ConfigFuzzTests
{
    /// <summary>Stands in for whatever a line holds; no error message may repeat it.</summary>
    private const string Mark = "VALUE-MARK";
    private static readonly string[] FileNames = ["rserver.conf", "load-balancer", "database.conf"];
    /// <summary>One file of every kind that is read (issue 21): each reader gets the same generated files.</summary>
    private static readonly string[] EveryReader =
        [.. FileNames, "launcher.conf", "logging.conf", "launcher.kubernetes.profiles.conf", "r-versions", "notifications.conf", "launcher-env", "vscode.extensions.conf", "env-vars"];

    private static readonly string[] Pieces =
    [
        "key=" + Mark, "k = " + Mark + " ", "# comment " + Mark, "  #x=" + Mark, "[server]", "[nodes]", "[config]", "host.example.com",
        "a=" + Mark + "#c", "b=" + Mark + " # c", "=" + Mark, "[" + Mark, "]", "[a]b]", "\0", "key\0=" + Mark, "x=\0" + Mark,
        "ü=ß" + Mark, "\uFEFF", " ", "\t", "password=" + Mark, "www-port=8787 # d", "", "[]", "[ s ]", "#", "=", "==",
        "[cluster]", "name=" + Mark, ";", "[*]", "[@g]", "Path: /opt/" + Mark, "Label:" + Mark, "  continued " + Mark, "/opt/R/" + Mark,
    ];

    private static byte[] Line(Random r)
    {
        var sb = new StringBuilder();
        for (var i = r.Next(1, 4); i > 0; i--)
        {
            var piece = Pieces[r.Next(Pieces.Length)];
            // Keys of their own, so most files have no duplicate key and parse.
            sb.Append(piece.StartsWith("key", StringComparison.Ordinal) ? $"key{r.Next(1000)}{piece[3..]}" : piece);
        }
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        return r.Next(12) switch
        {
            0 => [.. bytes, 0xC3, 0x28],                     // invalid UTF-8
            1 => [.. bytes, 0xED, 0xA0, 0x80],               // an encoded surrogate
            2 => [.. bytes, (byte)r.Next(128, 256)],         // a stray high byte
            3 => Encoding.UTF8.GetBytes($"long{r.Next(1000)}=" + new string('x', r.Next(1_000, 100_000)) + Mark),
            _ => bytes,
        };
    }

    private static byte[] Generate(Random r)
    {
        if (r.Next(5) == 0)
        {
            var noise = new byte[r.Next(0, 300)];
            r.NextBytes(noise);
            return noise;
        }
        var output = new List<byte>();
        if (r.Next(4) == 0) output.AddRange([0xEF, 0xBB, 0xBF]);
        for (var n = r.Next(0, 30); n > 0; n--)
        {
            output.AddRange(Line(r));
            output.AddRange(r.Next(6) switch { 0 => "\r\n"u8.ToArray(), 1 => "\r"u8.ToArray(), 2 => [], _ => "\n"u8.ToArray() });
        }
        return [.. output];
    }

    /// <summary>A file that parses: unique keys, comments, blank lines, NULs, long values, mixed line ends, maybe a BOM.</summary>
    private static byte[] GenerateValid(Random r)
    {
        var sb = new StringBuilder(r.Next(4) == 0 ? "\uFEFF" : "");
        for (var n = r.Next(0, 30); n > 0; n--)
        {
            sb.Append(r.Next(7) switch
            {
                0 => "# comment " + Mark,
                1 => r.Next(2) == 0 ? "" : " \t",
                2 => $"key{n} = {Mark}\0x # note",
                3 => $"long{n}=" + new string('x', r.Next(1_000, 50_000)),
                _ => $"key{n}={Mark}{n}",
            });
            sb.Append(r.Next(4) switch { 0 => "\r\n", 1 when n == 1 => "", _ => "\n" });
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Parses as the root would; a format error must be exact about where, and quote nothing of the line.</summary>
    private static ConfigDocument? ParseOrExplain(byte[] bytes, string path)
    {
        try
        {
            var doc = ConfigDocument.Parse(bytes, path, ConfigFiles.DialectOf(path));
            Assert.Equal(bytes, doc.ToBytes());
            return doc;
        }
        catch (ConfigFormatException e)
        {
            var lines = 1 + bytes.Count(b => b == '\n');
            Assert.Equal(path, e.FilePath);
            Assert.InRange(e.LineNumber, 1, lines);
            Assert.StartsWith($"{path}:{e.LineNumber}:", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.DoesNotContain(Mark, e.Message);
            Assert.True(e.Message.Length < path.Length + 300, e.Message);
            // Everything before the line at fault reads.
            var end = 0;
            for (var line = 1; line < e.LineNumber; line++) end = Array.IndexOf(bytes, (byte)'\n', end) + 1;
            ConfigDocument.Parse(bytes.AsSpan(0, end), path, ConfigFiles.DialectOf(path));
            return null;
        }
    }

    [Fact]
    public void TheParserOnlyEverRaisesAFormatErrorAtAnExactLine()
    {
        var random = new Random(20240611);
        var parsed = 0;
        const int Files = 3000;
        for (var i = 0; i < Files; i++)
        {
            var bytes = Generate(random);
            foreach (var name in EveryReader)
                if (ParseOrExplain(bytes, "/etc/rstudio/" + name) is not null) parsed++;
        }
        Assert.InRange(parsed, Files * EveryReader.Length / 30, Files * EveryReader.Length * 29 / 30); // both outcomes were exercised
    }

    [Fact]
    public void AFileOfAFewMegabytesParsesInBoundedTime()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 100_000; i++) sb.Append("key").Append(i).Append(i % 3 == 0 ? "=value # comment\r\n" : " = value\n");
        sb.Append("one-long-line=").Append('v', 2_000_000).Append('\n');
        var good = Encoding.UTF8.GetBytes(sb.ToString());
        byte[] bad = [.. good, .. Encoding.UTF8.GetBytes($"this last line has no equals {Mark}\n")];
        Assert.InRange(bad.Length, 3_000_000, 8_000_000);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<ConfigFormatException>(() => ConfigDocument.Parse(bad, "/etc/rstudio/rserver.conf"));
        Assert.Equal(100_002, e.LineNumber);
        Assert.DoesNotContain(Mark, e.Message);
        var doc = ConfigDocument.Parse(good, "/etc/rstudio/rserver.conf");
        Assert.Equal(100_001, doc.Entries.Count());
        Assert.Equal(good, doc.ToBytes());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed}");
    }

    [Fact]
    public void AnEditWhoseWriteFailsAnywhereLeavesTheFileAsItWas()
    {
        var random = new Random(4242);
        using var dir = new TempDirectory();
        var root = new ConfigRoot(dir.Path);
        int written = 0, failed = 0;
        for (var i = 0; i < 150; i++)
        {
            var name = FileNames[random.Next(FileNames.Length)];
            var path = dir.File(name);
            var original = random.Next(4) == 0 ? Generate(random) : GenerateValid(random);
            File.WriteAllBytes(path, original);
            var change = new ConfigChange(name == "load-balancer" && random.Next(2) == 0 ? "config" : null,
                $"key{random.Next(40)}", random.Next(5) == 0 ? null : random.Next(4) == 0 ? "with#hash" : $"v{random.Next(100)}");
            var failure = random.Next(4);
            var editor = new ConfigEditor(root, beforeCommit: temp =>
            {
                switch (failure)
                {
                    case 0: throw new IOException("disk full (injected)");
                    case 1:
                        // Half the new content made it to disk, then the write failed.
                        using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write)) stream.SetLength(stream.Length / 2);
                        throw new IOException("short write (injected)");
                    case 2: throw new UnauthorizedAccessException("permission lost (injected)");
                }
            });
            try
            {
                var edit = editor.Edit(name, [change], (_, _) => true);
                // Written or unchanged: the file is what the change makes of the original, whole.
                Assert.True(failure == 3 || edit.Outcome == ConfigEditOutcome.Unchanged, $"case {i}: a failing write reported {edit.Outcome}");
                var expected = ConfigDocument.Parse(original, path, ConfigFiles.DialectOf(name));
                if (change.Value is null) expected.Remove(change.Section, change.Key); else expected.Set(change.Section, change.Key, change.Value);
                Assert.Equal(expected.ToBytes(), File.ReadAllBytes(path));
                if (edit.Outcome == ConfigEditOutcome.Written) written++;
            }
            catch (WbException e)
            {
                Assert.False(e is ConfigFormatException { LineNumber: < 1 }, e.Message);
                Assert.Equal(original, File.ReadAllBytes(path));
                failed++;
            }
            Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        }
        Assert.True(written > 10 && failed > 10, $"{written} written, {failed} failed");
    }
}
