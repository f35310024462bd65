using System.Diagnostics;
using System.Text;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Platform;

/// <summary>Issue 24's platform pieces: files read as root by descriptor, bytes kept as given, bounded log lines.</summary>
public sealed class RootReadTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ATrustedFileIsReadWhole()
    {
        var path = _dir.Write("a.conf", "x=1\n");
        Assert.Equal("x=1\n"u8.ToArray(), TrustedPath.ReadFile(path, 100));
    }

    [RootFact("chown to another user")]
    public void AFileAnotherUserOwnsIsNotRead()
    {
        var path = _dir.Write("theirs.conf", "x=1\n");
        UnixFile.ChangeOwner(path, Posix.Nobody, Posix.Nobody);
        var e = Assert.Throws<UntrustedFileException>(() => TrustedPath.ReadFile(path, 100));
        Assert.Contains($"uid {Posix.Nobody}", e.Message);
    }

    [Fact]
    public void AFileItsGroupCanWriteIsNotRead()
    {
        var path = _dir.Write("group.conf", "x=1\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_100);
        Assert.Contains("writable by its group", Assert.Throws<UntrustedFileException>(() => TrustedPath.ReadFile(path, 100)).Message);
    }

    [Fact]
    public void AFifoIsNotOpenedForReadingAndNothingWaitsOnIt()
    {
        var path = _dir.File("fifo");
        Process.Start("mkfifo", [path]).WaitForExit();
        var watch = Stopwatch.StartNew();
        Assert.Contains("not a regular file", Assert.Throws<UntrustedFileException>(() => TrustedPath.ReadFile(path, 100)).Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void AFileLargerThanTheBoundIsNotRead()
    {
        var path = _dir.Write("big.conf", new string('x', 101));
        Assert.Contains("larger than 100 bytes", Assert.Throws<UntrustedFileException>(() => TrustedPath.ReadFile(path, 100)).Message);
    }

    [Fact]
    public void BytesThatAreNotUtf8SurviveDecodingAndEncoding()
    {
        byte[] given = [.. "n"u8, 0xFF, 0xC3, .. "é:1,"u8, 0xED, 0xB2, 0x80, .. "😀"u8];
        var text = RawText.Decode(given);
        Assert.Equal(given, RawText.Encode(text));
        Assert.True(RawText.HasEscapedBytes(text));
        Assert.Equal("né:1", RawText.Decode("né:1"u8));
        Assert.False(RawText.HasEscapedBytes("né:1"));
    }

    [Fact]
    public void TheRawWriterWritesTheBytesItWasGiven()
    {
        var stream = new MemoryStream();
        using (var writer = new RawTextWriter(stream)) writer.WriteLine(RawText.Decode([.. "a"u8, 0x80]));
        Assert.Equal([.. "a"u8, 0x80, (byte)'\n'], stream.ToArray());
    }

    [Fact]
    public void ALongLineIsCutToItsBoundSayingSo()
    {
        var line = Syslog.Bound(string.Concat(Enumerable.Repeat("é, ", 50_000)), 2048);
        Assert.InRange(Encoding.UTF8.GetByteCount(line), 2000, 2048);
        Assert.EndsWith("bytes, cut)", line);
        Assert.Equal("short", Syslog.Bound("short", 2048));
    }
}
